"""Template module: diffusion (filled in by the recipes)."""

__all__: list[str] = []
