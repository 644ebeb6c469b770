"""The passthrough cords shared by the vLLM and SGLang recipes.

The cord functions, paths and flags are the SDK templates' own: each cord
forwards its body to the engine's OpenAI-compatible server on
``ENGINE_PORT``; the function body only shapes what a *caller* gets back
(one decoded chunk of a stream, or the JSON body).
"""

from collections.abc import Callable
from typing import Any

from chutes_build import Chute, ChutePack

from ._openai import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamResponse,
    CompletionRequest,
    CompletionResponse,
    CompletionStreamResponse,
    DetokenizeRequest,
    DetokenizeResponse,
    MinifiedTypes,
    TokenizeRequest,
    TokenizeResponse,
    parse_stream_chunk,
)

__all__ = [
    "ENGINE_PORT",
    "LLMChutePack",
    "add_llm_cords",
    "add_models_cord",
    "passthrough_cord",
]

#: The port the engine listens on (127.0.0.1) and the passthrough cords forward to.
ENGINE_PORT = 10101


def passthrough_cord(
    chute: Chute, target: str, sglang: bool = False, method: str = "POST", **options: Any
):
    """A cord forwarding its body to the engine's ``target`` path (also its public path)."""
    return chute.cord(
        passthrough_path=target,
        passthrough_port=ENGINE_PORT,
        public_api_path=target,
        method=method,
        passthrough=True,
        sglang_passthrough=sglang,
        **options,
    )


def _tokenizer_cords(chute: Chute) -> None:
    """vLLM's ``/tokenize`` and ``/detokenize`` cords (at ``/do_tokenize``, ``/do_detokenize``)."""

    def cord(name: str, schema: type):
        return passthrough_cord(
            chute, f"/{name}", path=f"/do_{name}", input_schema=schema, minimal_input_schema=schema
        )

    @cord("tokenize", TokenizeRequest)
    async def do_tokenize(data) -> TokenizeResponse:
        return data

    @cord("detokenize", DetokenizeRequest)
    async def do_detokenize(data) -> DetokenizeResponse:
        return data


def add_models_cord(chute: Chute, sglang: bool = False) -> Callable:
    """``GET /v1/models``, passed through (every engine template has it)."""

    @passthrough_cord(chute, "/v1/models", sglang, method="GET", public_api_method="GET")
    async def get_models(data):
        return data

    return get_models


def add_llm_cords(chute: Chute, minified: MinifiedTypes, sglang: bool) -> dict[str, Callable]:
    """Add the chat/completion cords (plus vLLM's tokenizer cords); return the pack's extras."""
    chat_path, completion_path = "/v1/chat/completions", "/v1/completions"

    def cord(target: str, schema: type, minimal: type, stream: bool = False):
        return passthrough_cord(
            chute, target, sglang, stream=stream, input_schema=schema, minimal_input_schema=minimal
        )

    @cord(chat_path, ChatCompletionRequest, minified.stream_chat, stream=True)
    async def chat_stream(encoded_chunk) -> ChatCompletionStreamResponse:
        return parse_stream_chunk(encoded_chunk)

    @cord(completion_path, CompletionRequest, minified.stream_completion, stream=True)
    async def completion_stream(encoded_chunk) -> CompletionStreamResponse:
        return parse_stream_chunk(encoded_chunk)

    @cord(chat_path, ChatCompletionRequest, minified.chat)
    async def chat(data) -> ChatCompletionResponse:
        return data

    if not sglang:
        _tokenizer_cords(chute)

    @cord(completion_path, CompletionRequest, minified.completion)
    async def completion(data) -> CompletionResponse:
        return data

    models = add_models_cord(chute, sglang)
    return {
        "chat": chat,
        "chat_stream": chat_stream,
        "completion": completion,
        "completion_stream": completion_stream,
        "models": models,
    }


class LLMChutePack(ChutePack):
    """What the vLLM and SGLang templates return: the chute and its main cords."""

    chat: Callable
    completion: Callable
    chat_stream: Callable
    completion_stream: Callable
    models: Callable
