"""Template module: sglang (filled in by the recipes)."""

__all__: list[str] = []
