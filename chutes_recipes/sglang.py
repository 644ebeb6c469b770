"""The SGLang template: ``build_sglang_chute``, with the ``chutes`` SDK's signature and cords.

Defining the chute is pure: no network, no model download, no process. The
engine starts in the ``initialize_sglang`` startup hook, inside the image.
(The SDK registers SGLang chutes with ``standard_template="vllm"``; so does
this template, so the platform sees the same chute.)
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
    UsageInfo,
    minified_types,
)
from .images import SGLANG

__all__ = [
    "SGLANG",
    "BaseRequest",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionStreamResponse",
    "ChatMessage",
    "CompletionRequest",
    "CompletionResponse",
    "CompletionStreamResponse",
    "DefaultRole",
    "SGLangChute",
    "UsageInfo",
    "build_sglang_chute",
]


class SGLangChute(ChutePack):
    """What ``build_sglang_chute`` returns: the chute and its main cords."""

    chat: Callable
    completion: Callable
    chat_stream: Callable
    completion_stream: Callable
    models: Callable


def build_sglang_chute(
    username: str,
    model_name: str,
    node_selector: NodeSelector,
    image: str | Image = SGLANG,
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
) -> SGLangChute:
    """A chute serving ``model_name`` (pinned to ``revision``) with SGLang's OpenAI API."""
    engine_args = _checks.engine_args("build_sglang_chute", engine_args, forbid=("--api-key",))
    _checks.model_name("build_sglang_chute", model_name)
    revision = _checks.revision("build_sglang_chute", model_name, revision)
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
    async def initialize_sglang(self):
        from ._engine import start_sglang

        await start_sglang(self, model_name, revision, engine_args)

    extras = add_llm_cords(chute, minified_types(model_name), sglang=True)
    return SGLangChute(chute=chute, **extras)
