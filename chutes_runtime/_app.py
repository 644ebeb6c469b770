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

from starlette.exceptions import HTTPException
from starlette.responses import Response

from chutes_build.definitions import Chute

from ._codec import BodyError
from ._cords import CordRuntime, chunk_bytes
from ._guard import CordTimeout, Deadlines, guarded_call, until_disconnect
from ._http import BodyTooLarge, ClientGone, header, query_params, read_body, send_bytes, send_json
from ._internal import internal_routes
from ._metrics import Metrics
from ._outcome import ERROR_500, Unencodable, encoded, send_http_exception, send_unencodable
from ._passthrough import serve_passthrough
from ._settings import Settings

__all__ = ["PlainFraming", "Route", "RuntimeApp", "serve_lifespan"]

log = logging.getLogger("chutes_runtime")


async def serve_lifespan(
    receive: Any, send: Any, startup: Callable[[], Awaitable[None]],
    shutdown: Callable[[], Awaitable[None]],
) -> None:
    """One ASGI lifespan: ``startup()``, whose failure is reported to the server (which
    then stops) rather than raised, then ``shutdown()`` when the server stops."""
    await receive()
    try:
        await startup()
    except Exception as exc:
        log.exception("startup hook failed")
        await send({"type": "lifespan.startup.failed", "message": f"startup hook failed: {exc!r}"})
        return
    await send({"type": "lifespan.startup.complete"})
    await receive()
    await shutdown()
    await send({"type": "lifespan.shutdown.complete"})

_MSGPACK = (b"application/msgpack", b"application/x-msgpack", b"application/vnd.msgpack")


class Route:
    """A cord reachable at one ``(method, path)``; ``query`` means GET parameters are the input."""

    __slots__ = ("cord", "query")

    def __init__(self, cord: CordRuntime, query: bool) -> None:
        self.cord, self.query = cord, query


class PlainFraming:
    """Dev-mode output, as the SDK's server answers: a starlette ``Response`` as it is,
    ``bytes`` as they are, anything else (``str`` included) as JSON; stream chunks as
    yielded, with the cord's declared content type (none by default, as the SDK)."""

    encrypted = False
    headers: list = []

    async def result(
        self, scope: dict, receive: Any, send: Any, cord: CordRuntime, result: Any, extra: list
    ) -> None:
        if isinstance(result, Response):
            result.raw_headers.extend(extra)
            await result(scope, receive, send)
            return
        if isinstance(result, bytes):
            content_type = cord.content_type or b"application/octet-stream"
            await send_bytes(send, 200, result, content_type, extra)
        else:
            await send_bytes(send, 200, encoded(result), b"application/json", extra)

    def chunk(self, chunk: Any) -> bytes:
        return chunk_bytes(chunk)

    def stream_type(self, cord: CordRuntime) -> bytes | None:
        return cord.content_type

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
        for cord in self.cords:
            cord.timeout = settings.timeout_for(cord.name)
        limits = [c.timeout for c in self.cords if c.timeout]
        self.deadlines = Deadlines(min(1.0, max(0.05, min(limits, default=1.0) / 4)))
        self.timed = bool(limits)
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
        except asyncio.CancelledError:  # the client left (the protocol cancels) or shutdown
            status = 499
            _log_gone(route.cord)
            raise
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
            return await serve_passthrough(self, cord, scope, receive, send, value, framing, extra)
        if cord.streams:
            return await self._stream(cord, scope, receive, send, value, framing, extra)
        try:
            work = cord.call(value, self.pool)
            result = await guarded_call(scope, receive, work, cord.timeout, self.deadlines)
        except ClientGone:
            _log_gone(cord)
            return 499
        except Exception as exc:
            return await _failed(send, cord, exc, extra)
        try:
            await framing.result(scope, receive, send, cord, result, extra)
        except Unencodable as exc:
            return await send_unencodable(send, exc, cord.name, extra)
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
        self,
        cord: CordRuntime,
        scope: dict,
        receive: Any,
        send: Any,
        value: Any,
        framing: Any,
        extra: list,
    ) -> int:
        chunks = cord.iterate(value, self.pool).__aiter__()
        try:  # a client may leave while the first chunk is awaited, too
            first = await guarded_call(scope, receive, chunks.__anext__(), None, self.deadlines)
        except StopAsyncIteration:
            first = None
        except ClientGone:
            _log_gone(cord)
            return 499
        except HTTPException as exc:
            return await send_http_exception(send, exc, cord.name, extra)
        except Exception:
            log.exception("stream of cord %s failed before its first chunk", cord.name)
            await send_json(send, 500, {"detail": "Error initializing stream"})
            return 500
        content_type = framing.stream_type(cord)
        headers = [(b"content-type", content_type), *extra] if content_type else extra
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
        await serve_lifespan(receive, send, self.startup, self.shutdown)

    async def startup(self) -> None:
        """Start the time-limit sweep and run the startup hooks (their error propagates)."""
        if self.timed:
            self.deadlines.start()
        await self.run_hooks(self.chute.startup_hooks)

    async def shutdown(self) -> None:
        """Run the shutdown hooks (a failure is logged) and release the worker threads."""
        try:
            await self.run_hooks(self.chute.shutdown_hooks)
        except Exception:
            log.exception("shutdown hook failed")
        self.deadlines.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)

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


def _log_gone(cord: CordRuntime) -> None:
    thread = "" if cord.is_async else " (its thread runs on until the function returns)"
    log.info("client disconnected during cord %s: call cancelled, slot freed (499)%s",
             cord.name, thread)  # fmt: skip


async def _failed(send: Any, cord: CordRuntime, exc: Exception, extra: list) -> int:
    """Answer a failed call (see ``_outcome``); returns the status sent."""
    if isinstance(exc, HTTPException):
        return await send_http_exception(send, exc, cord.name, extra)
    if isinstance(exc, CordTimeout):
        log.warning("cord %s %s: cancelled (set a longer --cord-timeout if it needs more)",
                    cord.name, exc)  # fmt: skip
        await send_json(send, 504, {"detail": f"cord {cord.name} {exc}"}, extra)
        return 504
    log.exception("cord %s raised", cord.name)
    await send_json(send, 500, ERROR_500, extra)
    return 500
