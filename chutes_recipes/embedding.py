"""Template module: embedding (filled in by the recipes)."""

__all__: list[str] = []
