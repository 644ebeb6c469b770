"""Calling one cord: argument preparation, sync/async/generator dispatch, result rendering.

The call convention is the SDK's: the decoded body is the single positional
argument after ``self`` (the chute); a cord without such a parameter is
called as ``func(chute)``. Sync functions and sync generators run in a
bounded thread pool so the event loop (and the health endpoint) stays free.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from typing import Any

from chutes_build.definitions import Chute, Cord

from ._codec import BodyCodec, encode_json

__all__ = ["CordRuntime", "chunk_bytes"]

_DONE = object()


def _takes_body(func: Callable) -> tuple[bool, bool]:
    """``(takes a parameter after self, that parameter is required)``."""
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not positional:
        return False, False
    return True, positional[0].default is inspect.Parameter.empty


def chunk_bytes(chunk: Any) -> bytes:
    """A streamed chunk as bytes: bytes as-is, str as UTF-8, anything else as an SSE event."""
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode()
    return b"data: " + encode_json(chunk) + b"\n\n"


class CordRuntime:
    """Everything the server needs to serve one cord, computed once at start-up."""

    __slots__ = (
        "chute",
        "codec",
        "content_type",
        "cord",
        "func",
        "is_async",
        "is_async_gen",
        "is_sync_gen",
        "name",
        "body_required",
        "streams",
        "takes_body",
        "timeout",
    )

    def __init__(self, chute: Chute, cord: Cord) -> None:
        self.chute, self.cord, self.func = chute, cord, cord.func
        self.name = cord.name
        declared = cord.output_content_type
        self.content_type = declared.encode() if declared else None  # sent as-is per response
        self.takes_body, self.body_required = _takes_body(self.func)
        self.codec = BodyCodec(cord.input_type if self.takes_body else None)
        self.is_async_gen = inspect.isasyncgenfunction(self.func)
        self.is_sync_gen = inspect.isgeneratorfunction(self.func)
        self.is_async = inspect.iscoroutinefunction(self.func)
        self.streams = bool(cord.stream) or self.is_async_gen or self.is_sync_gen
        self.timeout: float | None = None  # seconds a non-streaming call may take

    def args(self, value: Any) -> tuple:
        """Positional arguments for a decoded body (``value`` is ``None`` when there is none)."""
        if not self.takes_body or (value is None and not self.body_required):
            return (self.chute,)
        return (self.chute, value)

    async def call(self, value: Any, pool: Executor) -> Any:
        """Run a non-streaming cord and return its result."""
        args = self.args(value)
        if self.is_async:
            return await self.func(*args)
        result = await asyncio.get_running_loop().run_in_executor(pool, self.func, *args)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def iterate(self, value: Any, pool: Executor) -> AsyncIterator[Any]:
        """Yield a streaming cord's chunks (sync generators advance in the pool)."""
        args = self.args(value)
        if self.is_async_gen:
            async for chunk in self.func(*args):
                yield chunk
            return
        if self.is_sync_gen:
            loop, gen = asyncio.get_running_loop(), self.func(*args)
            try:
                while (chunk := await loop.run_in_executor(pool, next, gen, _DONE)) is not _DONE:
                    yield chunk
            finally:
                try:
                    gen.close()
                except ValueError:  # still running in a worker after a cancel
                    pass
            return
        result = await self.call(value, pool)
        if hasattr(result, "__aiter__"):
            async for chunk in result:
                yield chunk
        elif isinstance(result, list | tuple):
            for chunk in result:
                yield chunk
        else:
            yield result
