"""Chute templates (vLLM, SGLang, embeddings, diffusion) with the SDK's signatures.

SDK files that import ``chutes.chute.template.vllm`` (and the other
templates) or ``chutes.image.standard.*`` get these modules while
chutes-build loads them. Building a template's chute is pure: no network,
no download, no process; the engine starts in the chute's startup hook.
"""

from .diffusion import DiffusionChute, build_diffusion_chute
from .embedding import EmbeddingChutePack, build_embedding_chute, get_optimal_pooling_type
from .images import DIFFUSION, SGLANG, VLLM
from .sglang import SGLangChute, build_sglang_chute
from .vllm import VLLMChute, build_vllm_chute

__all__ = [
    "DIFFUSION",
    "SGLANG",
    "VLLM",
    "DiffusionChute",
    "EmbeddingChutePack",
    "SGLangChute",
    "VLLMChute",
    "build_diffusion_chute",
    "build_embedding_chute",
    "build_sglang_chute",
    "build_vllm_chute",
    "get_optimal_pooling_type",
]
