"""The embedding template: ``build_embedding_chute`` (vLLM's pooling server), as in the SDK.

Defining the chute is pure: no network, no model download, no process. The
engine starts in the ``initialize_vllm_embedding`` startup hook.
"""

from collections.abc import Callable
from typing import Literal

import msgspec

from chutes_build import ChutePack, Image, NodeSelector

from ._llm import add_models_cord, passthrough_cord
from ._template import engine_chute
from .images import VLLM

__all__ = [
    "VLLM",
    "EmbeddingChutePack",
    "EmbeddingData",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "MinifiedEmbeddingRequest",
    "build_embedding_chute",
    "get_optimal_pooling_type",
]

#: (substring of the lowercased model name, pooling type), first match wins.
_POOLING_RULES = (
    ("e5-", "MEAN"),
    ("multilingual-e5", "MEAN"),
    ("bge-", "CLS"),
    ("gte-", "LAST"),
    ("sentence-t5", "MEAN"),
    ("st5", "MEAN"),
    ("jina-embeddings", "MEAN"),
)


def get_optimal_pooling_type(model_name: str) -> str:
    """The pooling type the SDK picks for ``pooling_type="auto"``."""
    lower = model_name.lower()
    for needle, pooling in _POOLING_RULES:
        if needle in lower:
            return pooling
    return "LAST" if "qwen" in lower and "embedding" in lower else "MEAN"


class EmbeddingUsage(msgspec.Struct, kw_only=True):
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int | None = 0
    prompt_tokens_details: dict | None = None


class EmbeddingData(msgspec.Struct, kw_only=True):
    index: int
    object: str = "embedding"
    embedding: list[float]


class EmbeddingRequest(msgspec.Struct, kw_only=True):
    model: str
    input: str | list[str]
    encoding_format: Literal["float", "base64"] | None = "float"
    dimensions: int | None = None
    user: str | None = None
    truncate_prompt_tokens: int | None = None


class EmbeddingResponse(msgspec.Struct, kw_only=True):
    id: str
    object: str = "list"
    data: list[EmbeddingData]
    model: str
    usage: EmbeddingUsage


class MinifiedEmbeddingRequest(msgspec.Struct, kw_only=True):
    input: str | list[str]
    model: str | None = None


class EmbeddingChutePack(ChutePack):
    """What ``build_embedding_chute`` returns: the chute and its ``embed`` cord."""

    embed: Callable


def build_embedding_chute(
    username: str,
    model_name: str,
    node_selector: NodeSelector,
    image: str | Image = VLLM,
    tagline: str = "",
    readme: str = "",
    concurrency: int = 32,
    engine_args: str = None,
    revision: str = None,
    max_instances: int = 1,
    scaling_threshold: float = 0.75,
    shutdown_after_seconds: int = 300,
    pooling_type: str = "auto",
    max_embed_len: int = 3072000,
    enable_chunked_processing: bool = True,
    allow_external_egress: bool = False,
    tee: bool = False,
    official_package: bool = False,
    name: str = None,
) -> EmbeddingChutePack:
    """A chute serving embeddings of ``model_name`` (pinned to ``revision``) with vLLM.

    The chute, and the model the engine serves, are called ``name`` (by default
    ``model_name``). ``official_package=True`` (a package of the platform's own) starts the
    engine without the chute's name, revision and offline mode in its environment.
    ``pooling_type="auto"`` picks the pooling from the model name; with
    ``enable_chunked_processing`` inputs up to ``max_embed_len`` tokens are embedded in chunks.
    """
    chute, engine_args, revision = engine_chute("build_embedding_chute", "embedding", locals())
    if pooling_type == "auto":
        pooling_type = get_optimal_pooling_type(model_name)
    pooler_config: dict = {"pooling_type": pooling_type}
    if enable_chunked_processing:
        pooler_config.update(enable_chunked_processing=True, max_embed_len=max_embed_len)

    @chute.on_startup()
    async def initialize_vllm_embedding(self):
        from ._engine import start_vllm

        await start_vllm(self, model_name, revision, engine_args, pooler_config, official_package)

    @passthrough_cord(
        chute,
        "/v1/embeddings",
        input_schema=EmbeddingRequest,
        minimal_input_schema=MinifiedEmbeddingRequest,
    )
    async def embed(data) -> EmbeddingResponse:
        return data

    add_models_cord(chute)
    return EmbeddingChutePack(chute=chute, embed=embed)
