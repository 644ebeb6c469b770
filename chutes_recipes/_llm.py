"""The passthrough cords shared by the vLLM and SGLang recipes.

The cord functions, paths and flags are the SDK templates' own: each cord
forwards its body to the engine's OpenAI-compatible server on
``ENGINE_PORT``; the function body only shapes what a *caller* gets back
(one decoded chunk of a stream, or the JSON body).
"""

from collections.abc import Callable
from typing import Any

from chutes_build import Chute

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

__all__ = ["ENGINE_PORT", "add_llm_cords", "add_models_cord"]

#: The port the engine listens on (127.0.0.1) and the passthrough cords forward to.
ENGINE_PORT = 10101


def _passthrough(chute: Chute, path: str, sglang: bool, **options: Any):
    extra = {"sglang_passthrough": True} if sglang else {}
    return chute.cord(
        passthrough_path=path,
        passthrough_port=ENGINE_PORT,
        public_api_path=path,
        method="POST",
        passthrough=True,
        **options,
        **extra,
    )


def _tokenizer_cords(chute: Chute) -> None:
    @chute.cord(
        path="/do_tokenize",
        passthrough_path="/tokenize",
        passthrough_port=ENGINE_PORT,
        public_api_path="/tokenize",
        method="POST",
        passthrough=True,
        input_schema=TokenizeRequest,
        minimal_input_schema=TokenizeRequest,
    )
    async def do_tokenize(data) -> TokenizeResponse:
        return data

    @chute.cord(
        path="/do_detokenize",
        passthrough_path="/detokenize",
        passthrough_port=ENGINE_PORT,
        public_api_path="/detokenize",
        method="POST",
        passthrough=True,
        input_schema=DetokenizeRequest,
        minimal_input_schema=DetokenizeRequest,
    )
    async def do_detokenize(data) -> DetokenizeResponse:
        return data


def add_models_cord(chute: Chute, sglang: bool = False) -> Callable:
    """``GET /v1/models``, passed through (every engine template has it)."""
    extra = {"sglang_passthrough": True} if sglang else {}

    @chute.cord(
        passthrough_path="/v1/models",
        passthrough_port=ENGINE_PORT,
        public_api_path="/v1/models",
        public_api_method="GET",
        method="GET",
        passthrough=True,
        **extra,
    )
    async def get_models(data):
        return data

    return get_models


def add_llm_cords(chute: Chute, minified: MinifiedTypes, sglang: bool) -> dict[str, Callable]:
    """Add the chat/completion cords (plus vLLM's tokenizer cords); return the pack's extras."""
    chat_path, completion_path = "/v1/chat/completions", "/v1/completions"

    @_passthrough(
        chute,
        chat_path,
        sglang,
        stream=True,
        input_schema=ChatCompletionRequest,
        minimal_input_schema=minified.stream_chat,
    )
    async def chat_stream(encoded_chunk) -> ChatCompletionStreamResponse:
        return parse_stream_chunk(encoded_chunk)

    @_passthrough(
        chute,
        completion_path,
        sglang,
        stream=True,
        input_schema=CompletionRequest,
        minimal_input_schema=minified.stream_completion,
    )
    async def completion_stream(encoded_chunk) -> CompletionStreamResponse:
        return parse_stream_chunk(encoded_chunk)

    @_passthrough(
        chute,
        chat_path,
        sglang,
        input_schema=ChatCompletionRequest,
        minimal_input_schema=minified.chat,
    )
    async def chat(data) -> ChatCompletionResponse:
        return data

    if not sglang:
        _tokenizer_cords(chute)

    @_passthrough(
        chute,
        completion_path,
        sglang,
        input_schema=CompletionRequest,
        minimal_input_schema=minified.completion,
    )
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
