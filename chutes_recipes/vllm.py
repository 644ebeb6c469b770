"""Template module: vllm (filled in by the recipes)."""

__all__: list[str] = []
