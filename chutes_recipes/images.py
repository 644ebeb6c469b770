"""Prebuilt engine images the templates default to (the SDK's ``chutes.image.standard``).

Each constant is an image reference on the chutes registry, exactly as the
SDK 0.6.9 names it; a chute that uses one has no Dockerfile to build.
"""

__all__ = ["DIFFUSION", "SGLANG", "VLLM"]

#: vLLM nightly with the chutes patches (the vLLM and embedding templates' default).
VLLM = "chutes/vllm:nightly-2025111700"

#: SGLang nightly with the chutes patches (the SGLang template's default).
SGLANG = "chutes/sglang:nightly-2025111800"

#: diffusers 0.34 (the diffusion template's default; the tag's ``.po`` is the SDK's spelling).
DIFFUSION = "chutes/diffusion:0.34.0.po"
