"""Template module: images (filled in by the recipes)."""

__all__: list[str] = []
