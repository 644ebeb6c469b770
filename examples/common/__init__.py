"""Helpers shared by the example chutes (imported from ``chutes/**``)."""
