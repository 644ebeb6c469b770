"""The SGLang template: ``build_sglang_chute``, with the ``chutes`` SDK's signature and cords.

Defining the chute is pure: no network, no model download, no process. The
engine starts in the ``initialize_sglang`` startup hook, inside the image.
(The SDK registers SGLang chutes with ``standard_template="vllm"``; so does
this template, so the platform sees the same chute.)
"""

from chutes_build import Image, NodeSelector

from ._llm import LLMChutePack, add_llm_cords
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
from ._template import engine_chute
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


class SGLangChute(LLMChutePack):
    """What ``build_sglang_chute`` returns: the chute and its main cords."""


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
    official_package: bool = False,
    name: str = None,
) -> SGLangChute:
    """A chute serving ``model_name`` (pinned to ``revision``) with SGLang's OpenAI API.

    The chute, and the model the engine serves, are called ``name`` (by default
    ``model_name``). ``official_package=True`` (a package of the platform's own) starts the
    engine without the chute's name, revision and offline mode in its environment
    and without returning hidden states.
    """
    chute, engine_args, revision = engine_chute(
        "build_sglang_chute", "vllm", locals(), forbid=("--api-key",)
    )

    @chute.on_startup()
    async def initialize_sglang(self):
        from ._engine import start_sglang

        await start_sglang(self, model_name, revision, engine_args, official_package)

    extras = add_llm_cords(chute, minified_types(model_name), sglang=True)
    return SGLangChute(chute=chute, **extras)
