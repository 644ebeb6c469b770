"""Chute templates (vLLM, SGLang, embeddings, diffusion) with the SDK's signatures.

SDK files that import ``chutes.chute.template.vllm`` and the others get these
modules while chutes-build loads them.
"""

__all__: list[str] = []
