"""The ASGI application: routing, the concurrency bound, cord calls, lifespan hooks.

Routing is a dict lookup on ``(method, path)``; responses are sent as raw
ASGI messages on the hot path (starlette ``Response`` objects returned by
cords are sent as they are). Production mode puts a :class:`~._secure.SecureGate`
in front of the same dispatch; dev mode (and trusted localhost) use it directly.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.responses import Response

from chutes_build._chute import Chute

from ._codec import BodyError, encode_json
from ._cords import CordRuntime, chunk_bytes
from ._http import (
    BodyTooLarge,
    ClientGone,
    header,
    query_params,
    read_body,
    send_bytes,
    send_json,
)
from ._internal import internal_routes
from ._metrics import Metrics
from ._settings import Settings

__all__ = ["PlainFraming", "Route", "RuntimeApp"]

log = logging.getLogger("chutes_runtime")

_MSGPACK = (b"application/msgpack", b"application/x-msgpack", b"application/vnd.msgpack")
_ERROR_500 = {"detail": "Internal Server Error"}


class Route:
    """A cord reachable at one ``(method, path)``; ``query`` means GET parameters are the input."""

    __slots__ = ("cord", "query")

    def __init__(self, cord: CordRuntime, query: bool) -> None:
        self.cord, self.query = cord, query


class PlainFraming:
    """Dev-mode output: results as JSON (or their own type), stream chunks as yielded."""

    encrypted = False
    headers: list = []

    async def result(
        self, scope: dict, receive: Any, send: Any, cord: CordRuntime, result: Any, extra: list
    ) -> None:
        if isinstance(result, Response):
            result.raw_headers.extend(extra)
            await result(scope, receive, send)
            return
        content_type = cord.content_type
        if isinstance(result, bytes):
            await send_bytes(send, 200, result, content_type or b"application/octet-stream", extra)
        elif isinstance(result, str) and content_type and b"json" not in content_type:
            await send_bytes(send, 200, result.encode(), content_type, extra)
        else:
            await send_bytes(send, 200, encode_json(result), b"application/json", extra)

    def chunk(self, chunk: Any) -> bytes:
        return chunk_bytes(chunk)

    def stream_type(self, cord: CordRuntime) -> bytes:
        return cord.content_type or b"text/event-stream"

    async def upstream_error(
        self, send: Any, status: int, body: bytes, content_type: bytes, extra: list
    ) -> None:
        await send_bytes(send, status, body, content_type, extra)

    async def upstream_result(
        self, send: Any, body: bytes, content_type: bytes, extra: list
    ) -> None:
        await send_bytes(send, 200, body, content_type, extra)

    def upstream_stream_type(self, content_type: bytes) -> bytes:
        return content_type


class RuntimeApp:
    """Serves one chute's cords plus the health, metrics and OpenAPI endpoints."""

    def __init__(
        self, chute: Chute, module: Any, settings: Settings, gate: Any = None, gpu: Any = None
    ) -> None:
        self.chute, self.module, self.settings, self.gate, self.gpu = (
            chute,
            module,
            settings,
            gate,
            gpu,
        )
        self.concurrency = chute.concurrency
        self.metrics = Metrics(chute.uid, self.concurrency)
        self.pool = ThreadPoolExecutor(
            settings.pool_size(self.concurrency), thread_name_prefix="cord"
        )
        self.cords = [CordRuntime(chute, c) for c in chute.cords]
        self.routes: dict[tuple[str, str], Route] = {}
        for cord in self.cords:
            self.routes[("POST", cord.cord.path)] = Route(cord, False)
            public, method = cord.cord.public_api_path, cord.cord.public_api_method
            if settings.dev and public and (method, public) != ("POST", cord.cord.path):
                self.routes.setdefault((method, public), Route(cord, method == "GET"))
        self.internal = internal_routes(self)
        self.known_paths = {p for _, p in self.routes} | {p for _, p in self.internal}
        self.plain = PlainFraming()

    # ---------------------------------------------------------------- ASGI entry
    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.gate is None or self._trusted(scope):
                await self.dispatch_plain(scope, receive, send)
            else:
                await self.gate.handle(self, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def _trusted(self, scope: dict) -> bool:
        client = scope.get("client")
        return self.settings.trust_localhost and client is not None and client[0] == "127.0.0.1"

    async def dispatch_plain(self, scope: dict, receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        route = self.routes.get((method, path))
        if route is not None:
            await self.serve_cord(route, scope, receive, send, None, self.plain)
            return
        handler = self.internal.get((method, path))
        if handler is not None:
            await handler.plain(self, scope, receive, send)
        elif path in self.known_paths:
            await send_json(send, 405, {"detail": "Method Not Allowed"})
        else:
            await send_json(send, 404, {"detail": "Not Found"})

    # ---------------------------------------------------------------- cords
    def conn_headers(self) -> list:
        used = self.metrics.in_flight
        return [
            (b"x-chutes-conn-used", str(used).encode()),
            (b"x-chutes-conn-available", str(max(0, self.concurrency - used)).encode()),
            (b"x-chutes-conn-utilization", f"{used / self.concurrency:.4f}".encode()),
        ]

    async def serve_cord(
        self, route: Route, scope: dict, receive: Any, send: Any, body: bytes | None, framing: Any
    ) -> None:
        """Bound, decode, call, respond. ``body`` is given (decrypted) in production mode.

        The body is read before a slot is taken (issue 7): a client that stalls
        its upload must not hold one of the chute's ``concurrency`` slots.
        """
        metrics = self.metrics
        if body is None and not route.query:
            body = await self._read_body(route, scope, receive, send)
            if body is None:
                return
        if metrics.in_flight >= self.concurrency:
            metrics.rejected += 1
            detail = f"Max concurrency exceeded: {self.concurrency}, try again later."
            await send_json(send, 429, {"error": "RateLimitExceeded", "detail": detail})
            return
        metrics.in_flight += 1
        started, status = time.monotonic(), 500
        try:
            status = await self._serve(route, scope, receive, send, body, framing)
        finally:
            metrics.in_flight -= 1
            metrics.observe(route.cord.name, status, started)

    async def _read_body(self, route: Route, scope: dict, receive: Any, send: Any) -> bytes | None:
        """The request body, or None once a 413 was sent or the client left."""
        started = time.monotonic()
        try:
            return await read_body(scope, receive, self.settings.max_body_bytes)
        except BodyTooLarge:
            limit = self.settings.max_body_bytes
            await send_json(send, 413, {"detail": f"request body over {limit} bytes"})
            status = 413
        except ClientGone:
            status = 499
        self.metrics.observe(route.cord.name, status, started)
        return None

    async def _serve(
        self, route: Route, scope: dict, receive: Any, send: Any, body: bytes | None, framing: Any
    ) -> int:
        cord = route.cord
        try:
            value = await self._input(route, scope, receive, body)
        except BodyError as exc:
            await send_json(send, exc.status, {"detail": exc.detail})
            return exc.status
        except BodyTooLarge:
            await send_json(
                send, 413, {"detail": f"request body over {self.settings.max_body_bytes} bytes"}
            )
            return 413
        except ClientGone:
            return 499
        extra = self.conn_headers() + framing.headers
        if cord.cord.passthrough:
            from ._passthrough import serve_passthrough

            return await serve_passthrough(self, cord, scope, receive, send, value, framing, extra)
        if cord.streams:
            return await self._stream(cord, receive, send, value, framing, extra)
        try:
            result = await cord.call(value, self.pool)
        except Exception:
            log.exception("cord %s raised", cord.name)
            await send_json(send, 500, _ERROR_500)
            return 500
        await framing.result(scope, receive, send, cord, result, extra)
        return 200

    async def _input(self, route: Route, scope: dict, receive: Any, body: bytes | None) -> Any:
        cord = route.cord
        if route.query:
            return cord.codec.convert(query_params(scope)) if cord.takes_body else None
        if body is None:
            body = await read_body(scope, receive, self.settings.max_body_bytes)
        if cord.cord.passthrough:
            return body
        if not cord.takes_body:
            return None
        if not body:
            if cord.body_required:
                raise BodyError(400, "request body required")
            return None
        return cord.codec.decode(body, header(scope, b"content-type") in _MSGPACK)

    async def _stream(
        self, cord: CordRuntime, receive: Any, send: Any, value: Any, framing: Any, extra: list
    ) -> int:
        chunks = cord.iterate(value, self.pool).__aiter__()
        try:
            first = await chunks.__anext__()
        except StopAsyncIteration:
            first = None
        except Exception:
            log.exception("stream of cord %s failed before its first chunk", cord.name)
            await send_json(send, 500, {"detail": "Error initializing stream"})
            return 500
        headers = [(b"content-type", framing.stream_type(cord)), *extra]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        pump = self._pump(chunks, first, send, framing, cord.name)
        if not await until_disconnect(receive, pump):
            return 499
        return 200

    async def _pump(self, chunks: Any, first: Any, send: Any, framing: Any, name: str) -> None:
        try:
            if first is not None:
                await send(
                    {"type": "http.response.body", "body": framing.chunk(first), "more_body": True}
                )
            async for chunk in chunks:
                await send(
                    {"type": "http.response.body", "body": framing.chunk(chunk), "more_body": True}
                )
        except Exception:
            log.exception("stream of cord %s failed", name)
        finally:
            await chunks.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # ---------------------------------------------------------------- lifespan
    async def _lifespan(self, receive: Any, send: Any) -> None:
        await receive()
        try:
            await self.run_hooks(self.chute.startup_hooks)
        except Exception as exc:
            log.exception("startup hook failed")
            await send(
                {"type": "lifespan.startup.failed", "message": f"startup hook failed: {exc!r}"}
            )
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()
        try:
            await self.run_hooks(self.chute.shutdown_hooks)
        except Exception:
            log.exception("shutdown hook failed")
        self.pool.shutdown(wait=False, cancel_futures=True)
        await send({"type": "lifespan.shutdown.complete"})

    async def run_hooks(self, hooks: list) -> None:
        """Run hooks in priority order with the chute as ``self`` (sync ones in the pool)."""
        loop = asyncio.get_running_loop()
        for hook in hooks:
            log.info(
                "running hook %s (priority %s)",
                getattr(hook.func, "__name__", hook.func),
                hook.priority,
            )
            if inspect.iscoroutinefunction(hook.func):
                await hook.func(self.chute)
            else:
                result = await loop.run_in_executor(self.pool, hook.func, self.chute)
                if inspect.isawaitable(result):
                    await result


async def until_disconnect(receive: Callable[[], Awaitable[dict]], work: Awaitable[Any]) -> bool:
    """Run ``work`` until done (True) or the client disconnects first (cancel it, False)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        watcher.cancel()
        raise
    watcher.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("cleanup after a client disconnect failed")
    return False


async def _disconnected(receive: Callable[[], Awaitable[dict]]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
