"""The vLLM template: ``build_vllm_chute``, with the ``chutes`` SDK's signature and cords.

Defining the chute is pure: no network, no model download, no process. The
engine starts in the ``initialize_vllm`` startup hook, inside the image.
"""

from collections.abc import Callable

from chutes_build import Chute, ChutePack, Image, NodeSelector

from . import _checks
from ._llm import add_llm_cords
from ._openai import (
    BaseRequest,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    ChatMessage,
    CompletionRequest,
    CompletionResponse,
    CompletionStreamResponse,
    DefaultRole,
    DetokenizeRequest,
    DetokenizeResponse,
    TokenizeRequest,
    TokenizeResponse,
    UsageInfo,
    minified_types,
)
from .images import VLLM

__all__ = [
    "VLLM",
    "BaseRequest",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionStreamResponse",
    "ChatMessage",
    "CompletionRequest",
    "CompletionResponse",
    "CompletionStreamResponse",
    "DefaultRole",
    "DetokenizeRequest",
    "DetokenizeResponse",
    "TokenizeRequest",
    "TokenizeResponse",
    "UsageInfo",
    "VLLMChute",
    "build_vllm_chute",
]


class VLLMChute(ChutePack):
    """What ``build_vllm_chute`` returns: the chute and its main cords."""

    chat: Callable
    completion: Callable
    chat_stream: Callable
    completion_stream: Callable
    models: Callable


def build_vllm_chute(
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
    allow_external_egress: bool = False,
    tee: bool = False,
) -> VLLMChute:
    """A chute serving ``model_name`` (pinned to ``revision``) with vLLM's OpenAI API."""
    engine_args = _checks.engine_args("build_vllm_chute", engine_args)
    _checks.model_name("build_vllm_chute", model_name)
    revision = _checks.revision("build_vllm_chute", model_name, revision)
    chute = Chute(
        username=username,
        name=model_name,
        tagline=tagline,
        readme=readme,
        image=image,
        node_selector=node_selector,
        concurrency=concurrency,
        standard_template="vllm",
        revision=revision,
        shutdown_after_seconds=shutdown_after_seconds,
        max_instances=max_instances,
        scaling_threshold=scaling_threshold,
        allow_external_egress=allow_external_egress,
        tee=tee,
    )

    @chute.on_startup()
    async def initialize_vllm(self):
        from ._engine import start_vllm

        await start_vllm(self, model_name, revision, engine_args)

    extras = add_llm_cords(chute, minified_types(model_name), sglang=False)
    return VLLMChute(chute=chute, **extras)
