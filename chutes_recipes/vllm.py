"""The vLLM template: ``build_vllm_chute``, with the ``chutes`` SDK's signature and cords.

Defining the chute is pure: no network, no model download, no process. The
engine starts in the ``initialize_vllm`` startup hook, inside the image.
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
    DetokenizeRequest,
    DetokenizeResponse,
    TokenizeRequest,
    TokenizeResponse,
    UsageInfo,
    minified_types,
)
from ._template import engine_chute
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


class VLLMChute(LLMChutePack):
    """What ``build_vllm_chute`` returns: the chute and its main cords."""


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
    official_package: bool = False,
    name: str = None,
) -> VLLMChute:
    """A chute serving ``model_name`` (pinned to ``revision``) with vLLM's OpenAI API.

    The chute, and the model the engine serves, are called ``name`` (by default
    ``model_name``). ``official_package=True`` (a package of the platform's own) starts the
    engine without the chute's name, revision and offline mode in its environment.
    """
    chute, engine_args, revision = engine_chute("build_vllm_chute", "vllm", locals())

    @chute.on_startup()
    async def initialize_vllm(self):
        from ._engine import start_vllm

        await start_vllm(self, model_name, revision, engine_args, None, official_package)

    extras = add_llm_cords(chute, minified_types(model_name), sglang=False)
    return VLLMChute(chute=chute, **extras)
