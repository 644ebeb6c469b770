"""OpenAI-compatible request and response types shared by the vLLM and SGLang recipes.

They mirror the SDK templates' pydantic models field for field, as
``msgspec.Struct`` types (keyword-only, so required fields may follow
defaults in subclasses; no pydantic is needed in the image). The
``Minified*`` types depend on the model name, so :func:`minified_types`
builds them per chute, as the SDK does inside its template functions.
"""

import enum
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "BaseRequest",
    "ChatCompletionLogProb",
    "ChatCompletionLogProbs",
    "ChatCompletionLogProbsContent",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionResponseChoice",
    "ChatCompletionResponseStreamChoice",
    "ChatCompletionStreamResponse",
    "ChatMessage",
    "CompletionLogProbs",
    "CompletionRequest",
    "CompletionResponse",
    "CompletionResponseChoice",
    "CompletionResponseStreamChoice",
    "CompletionStreamResponse",
    "DefaultRole",
    "DeltaMessage",
    "DetokenizeRequest",
    "DetokenizeResponse",
    "Logprob",
    "MinifiedTypes",
    "ResponseFormat",
    "TokenizeRequest",
    "TokenizeResponse",
    "UsageInfo",
    "minified_types",
    "parse_stream_chunk",
]

_STOP_REASON_DOC = (
    "The stop string or token id that caused the completion to stop, None if the completion "
    "finished for some other reason including encountering the EOS token"
)
StopReason = Annotated[int | str | None, msgspec.Meta(description=_STOP_REASON_DOC)]


class _Model(msgspec.Struct, kw_only=True):
    """Base of the schema types: keyword-only fields, unknown fields ignored (like pydantic)."""


class DefaultRole(enum.Enum):
    user = "user"
    assistant = "assistant"
    developer = "developer"


class ChatMessage(_Model, kw_only=True):
    role: str
    content: str


class Logprob(_Model, kw_only=True):
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


class ResponseFormat(_Model, kw_only=True):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict | None = None


class BaseRequest(_Model, kw_only=True):
    model: str
    frequency_penalty: float | None = 0.0
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = False
    top_logprobs: int | None = 0
    max_tokens: int | None = None
    presence_penalty: float | None = 0.0
    response_format: ResponseFormat | None = None
    seed: Annotated[int, msgspec.Meta(ge=0, le=9223372036854775807)] | None = None
    stop: str | list[str] | None = msgspec.field(default_factory=list)
    stream: bool | None = False
    temperature: float | None = 0.7
    top_p: float | None = 1.0
    best_of: int | None = None
    use_beam_search: bool = False
    top_k: int = -1
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    length_penalty: float = 1.0
    stop_token_ids: list[int] | None = msgspec.field(default_factory=list)
    include_stop_str_in_output: bool = False
    ignore_eos: bool = False
    min_tokens: int = 0
    skip_special_tokens: bool = True
    spaces_between_special_tokens: bool = True
    prompt_logprobs: int | None = None


class UsageInfo(_Model, kw_only=True):
    prompt_tokens: int = 0
    total_tokens: int = 0
    completion_tokens: int | None = 0


class TokenizeRequest(_Model, kw_only=True):
    model: str
    prompt: str
    add_special_tokens: bool


class DetokenizeRequest(_Model, kw_only=True):
    model: str
    tokens: list[int]


class ChatCompletionRequest(BaseRequest, kw_only=True):
    messages: list[ChatMessage]


class CompletionRequest(BaseRequest, kw_only=True):
    prompt: str


class ChatCompletionLogProb(_Model, kw_only=True):
    token: str
    logprob: float = -9999.0
    bytes: list[int] | None = None


class ChatCompletionLogProbsContent(ChatCompletionLogProb, kw_only=True):
    top_logprobs: list[ChatCompletionLogProb] = msgspec.field(default_factory=list)


class ChatCompletionLogProbs(_Model, kw_only=True):
    content: list[ChatCompletionLogProbsContent] | None = None


class ChatCompletionResponseChoice(_Model, kw_only=True):
    index: int
    message: ChatMessage
    logprobs: ChatCompletionLogProbs | None = None
    finish_reason: str | None = "stop"
    stop_reason: int | str | None = None


class ChatCompletionResponse(_Model, kw_only=True):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatCompletionResponseChoice]
    usage: UsageInfo
    prompt_logprobs: list[dict[int, Logprob] | None] | None = None


class TokenizeResponse(_Model, kw_only=True):
    count: int
    max_model_len: int
    tokens: list[int]


class DetokenizeResponse(_Model, kw_only=True):
    prompt: str


class DeltaMessage(_Model, kw_only=True):
    role: str | None = None
    content: str | None = None


class ChatCompletionResponseStreamChoice(_Model, kw_only=True):
    index: int
    delta: DeltaMessage
    logprobs: ChatCompletionLogProbs | None = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None


class ChatCompletionStreamResponse(_Model, kw_only=True):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatCompletionResponseStreamChoice]
    usage: UsageInfo | None = None


class CompletionLogProbs(_Model, kw_only=True):
    text_offset: list[int] = msgspec.field(default_factory=list)
    token_logprobs: list[float | None] = msgspec.field(default_factory=list)
    tokens: list[str] = msgspec.field(default_factory=list)
    top_logprobs: list[dict[str, float] | None] = msgspec.field(default_factory=list)


class CompletionResponseChoice(_Model, kw_only=True):
    index: int
    text: str
    logprobs: CompletionLogProbs | None = None
    finish_reason: str | None = None
    stop_reason: StopReason = None
    prompt_logprobs: list[dict[int, Logprob] | None] | None = None


class CompletionResponse(_Model, kw_only=True):
    id: str
    object: str = "text_completion"
    created: int
    model: str
    choices: list[CompletionResponseChoice]
    usage: UsageInfo


class CompletionResponseStreamChoice(_Model, kw_only=True):
    index: int
    text: str
    logprobs: CompletionLogProbs | None = None
    finish_reason: str | None = None
    stop_reason: StopReason = None


class CompletionStreamResponse(_Model, kw_only=True):
    id: str
    object: str
    created: int
    model: str
    choices: list[CompletionResponseStreamChoice]
    usage: UsageInfo | None = None


#: The SDK's ``messages`` default (a list of one model) is a factory here; its schema says it.
_DEFAULT_MESSAGES = msgspec.Meta(extra_json_schema={"default": [{"role": "user", "content": ""}]})


class MinifiedTypes(msgspec.Struct, frozen=True):
    """The four per-model ``Minified*`` input types of an LLM chute."""

    stream_chat: Any
    chat: Any
    stream_completion: Any
    completion: Any


def minified_types(model_name: str) -> MinifiedTypes:
    """The SDK's minimal input schemas, whose ``model`` field defaults to ``model_name``."""

    class MinifiedMessage(_Model, kw_only=True):
        role: DefaultRole = DefaultRole.user
        content: str = ""

    class MinifiedStreamChatCompletion(_Model, kw_only=True):
        messages: Annotated[list[MinifiedMessage], _DEFAULT_MESSAGES] = msgspec.field(
            default_factory=lambda: [MinifiedMessage()]
        )
        temperature: float = 0.7
        seed: int = 42
        stream: bool = True
        max_tokens: int = 1024
        model: str = model_name

    class MinifiedChatCompletion(MinifiedStreamChatCompletion, kw_only=True):
        stream: bool = False

    class MinifiedStreamCompletion(_Model, kw_only=True):
        prompt: str
        temperature: float = 0.7
        seed: int = 42
        stream: bool = True
        max_tokens: int = 1024
        model: str = model_name

    class MinifiedCompletion(MinifiedStreamCompletion, kw_only=True):
        stream: bool = False

    return MinifiedTypes(
        stream_chat=MinifiedStreamChatCompletion,
        chat=MinifiedChatCompletion,
        stream_completion=MinifiedStreamCompletion,
        completion=MinifiedCompletion,
    )


def parse_stream_chunk(encoded_chunk: str | bytes) -> dict | None:
    """One server-sent-event line of an OpenAI stream as a dict (``None`` for other lines)."""
    chunk = encoded_chunk if isinstance(encoded_chunk, str) else encoded_chunk.decode()
    if "data: {" in chunk:
        return msgspec.json.decode(chunk[6:].strip())
    return None
