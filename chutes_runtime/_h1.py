"""A small HTTP/1.1 server protocol for uvicorn (``Config(http=H1Protocol)``).

uvicorn's pure-Python choice, h11, spends most of a small request in its
generic event machinery. This protocol handles exactly what the platform and
local clients send: one request at a time per connection (pipelined requests
wait in the buffer), ``Content-Length`` or chunked request bodies delivered
incrementally, ``Expect: 100-continue``, keep-alive with an idle timeout, and
``Content-Length`` or chunked responses. Anything malformed gets a 400 and the
connection is closed. uvicorn still owns the sockets, lifespan, signals and
graceful shutdown (it calls :meth:`H1Protocol.shutdown`).

A connection lost before its response is complete cancels the request's task (the
scope's ``extensions`` say so, see ``_guard``): a cord whose client left stops and
frees its concurrency slot without a second task watching each request.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from ._guard import CANCELS_ON_DISCONNECT
from ._h1_head import MAX_CHUNK_LINE, MAX_HEAD, BadRequest, chunk_size, framing, parse_head

__all__ = ["H1Protocol"]

log = logging.getLogger("chutes_runtime")

_HIGH_WATER = 1024 * 1024
_REASONS: dict[int, bytes] = {}
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_SERVER_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
    b"content-length: 34\r\nconnection: close\r\n\r\n"
    b'{"detail":"Internal Server Error"}'
)
_EXTENSIONS = {CANCELS_ON_DISCONNECT: {}}


def _reason(status: int) -> bytes:
    reason = _REASONS.get(status)
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b""
        _REASONS[status] = reason
    return reason


class _Cycle:
    """One request/response on a connection: the ASGI ``receive`` and ``send`` callables."""

    __slots__ = (
        "body",
        "chunked",
        "complete",
        "conn",
        "delivered",
        "expect_100",
        "head",
        "keep_alive",
        "more_body",
        "started",
        "waiter",
    )

    def __init__(
        self, conn: H1Protocol, keep_alive: bool, more_body: bool, expect_100: bool, head: bool
    ) -> None:
        self.conn, self.keep_alive, self.more_body, self.expect_100 = (
            conn,
            keep_alive,
            more_body,
            expect_100,
        )
        self.head = head
        self.body = bytearray()
        self.waiter: asyncio.Future | None = None
        self.started = self.complete = self.chunked = self.delivered = False

    def feed(self, data: bytes, more: bool) -> None:
        self.body += data
        self.more_body = more
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def receive(self) -> dict:
        conn = self.conn
        if self.expect_100 and not conn.closed:
            self.expect_100 = False
            conn.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        while not conn.closed and not self.complete and self.more_body and not self.body:
            conn.resume()
            self.waiter = conn.loop.create_future()
            # issue 7: a client that stops sending its body is cut off (slowloris)
            timer = conn.loop.call_later(conn.body_timeout, conn.body_timed_out, self)
            try:
                await self.waiter
            finally:
                timer.cancel()
        if conn.closed or self.complete:
            return {"type": "http.disconnect"}
        if self.delivered:  # the whole body was read: later calls wait for the client to leave
            while not conn.closed and not self.complete:
                self.waiter = conn.loop.create_future()
                await self.waiter
            return {"type": "http.disconnect"}
        body, self.body = bytes(self.body), bytearray()
        self.delivered = not self.more_body
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: dict) -> None:
        conn = self.conn
        if conn.closed:
            return
        kind = message["type"]
        if kind == "http.response.start" and not self.started:
            self.started = True
            self._start(message)
        elif kind == "http.response.body" and self.started and not self.complete:
            body, more = message.get("body", b""), message.get("more_body", False)
            if self.head:
                pass
            elif self.chunked:
                if body:
                    conn.transport.write(b"%x\r\n%b\r\n" % (len(body), body))
                if not more:
                    conn.transport.write(b"0\r\n\r\n")
            elif body:
                conn.transport.write(body)
            if not more:
                self.complete = True
                self._wake()
                conn.finished(self)
            elif conn.paused_writing:
                await conn.drained()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    def _start(self, message: dict) -> None:
        status = message["status"]
        lines = [b"HTTP/1.1 %d %b\r\n" % (status, _reason(status))]
        has_length = False
        for name, value in message.get("headers", ()):
            lowered = name.lower()
            if lowered == b"content-length":
                has_length = True
            elif lowered == b"connection" and value.lower() == b"close":
                self.keep_alive = False
            lines.append(b"%b: %b\r\n" % (name, value))
        if self.more_body:  # issue 7: the unread body means we close; say so, or a pooled
            self.keep_alive = False  # client sends its next request into a closing socket
        if not has_length and not self.head:
            self.chunked = True
            lines.append(b"transfer-encoding: chunked\r\n")
        if not self.keep_alive:
            lines.append(b"connection: close\r\n")
        lines.append(b"\r\n")
        self.conn.transport.write(b"".join(lines))


class H1Protocol(asyncio.Protocol):
    """One client connection."""

    def __init__(self, config: Any, server_state: Any, app_state: dict, _loop: Any = None) -> None:
        if not config.loaded:
            config.load()
        self.config, self.app, self.server_state, self.app_state = (
            config,
            config.loaded_app,
            server_state,
            app_state,
        )
        self.loop = _loop or asyncio.get_event_loop()
        self.buffer = bytearray()
        self.cycle: _Cycle | None = None
        self.task: asyncio.Task | None = None  # the current request's
        self.body_left = 0  # bytes of a Content-Length body still to come
        self.chunk_state: list | None = None  # [left in chunk, CRLF owed] in a chunked body
        self.body_timeout = float(getattr(config, "body_timeout_s", 60.0))
        self.closed = self.paused_reading = self.paused_writing = self.shutting_down = False
        self.drain_waiter: asyncio.Future | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        self.transport: Any = None
        self.client: tuple | None = None
        self.server: tuple | None = None

    # ---------------------------------------------------------------- asyncio callbacks
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.server_state.connections.add(self)
        peer, sock = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
        self.client = tuple(peer[:2]) if isinstance(peer, tuple) else None
        self.server = tuple(sock[:2]) if isinstance(sock, tuple) else None
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server_state.connections.discard(self)
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self.cycle is not None:
            self.cycle._wake()
            if not self.cycle.complete and self.task is not None:
                self.task.cancel()  # the client left mid-request: stop its work
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.buffer += data
        try:
            self._process()
        except BadRequest:
            self.reject()

    def reject(self) -> None:
        """400 and close; just close when a response has started (a bad chunk mid-body)."""
        if self.cycle is None or not self.cycle.started:
            self.transport.write(_BAD_REQUEST)
        self.close()

    def body_timed_out(self, cycle: _Cycle) -> None:
        """No body bytes for ``body_timeout`` seconds: 408 (if nothing was sent) and close."""
        if cycle is self.cycle and not self.closed:
            if not cycle.started:
                self.transport.write(_TIMEOUT)
            self.close()
            cycle._wake()

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    async def drained(self) -> None:
        self.drain_waiter = self.loop.create_future()
        await self.drain_waiter

    # ---------------------------------------------------------------- parsing
    def _process(self) -> None:
        if self.cycle is not None:
            self._feed_body()
            if self.cycle is not None:
                queued = len(self.buffer) + len(self.cycle.body)
                if queued > _HIGH_WATER and not self.paused_reading:
                    self.paused_reading = True
                    self.transport.pause_reading()
                return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                raise BadRequest
            return
        head = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        self._begin(*parse_head(head))

    def _begin(self, method: str, path: str, query: bytes, version: str, headers: list) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        length, chunked = framing(headers)
        keep_alive, expect = version == "1.1", False
        for name, value in headers:
            if name == b"connection":
                token = value.lower()
                keep_alive = token == b"keep-alive" or (keep_alive and token != b"close")
            elif name == b"expect":
                expect = value.lower() == b"100-continue"
        self.body_left, self.chunk_state = (0, [0, False]) if chunked else (length, None)
        more = chunked or length > 0
        self.cycle = _Cycle(self, keep_alive, more, expect and more, method == "HEAD")
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "server": self.server, "client": self.client, "scheme": "http", "method": method,
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": query,
            "headers": headers, "state": self.app_state.copy(), "extensions": _EXTENSIONS,
        }  # fmt: skip
        if more:
            self._feed_body()
        task = self.task = self.loop.create_task(self._run(scope, self.cycle))
        self.server_state.tasks.add(task)  # a strong reference; uvicorn waits for these on exit
        task.add_done_callback(self.server_state.tasks.discard)

    def _feed_body(self) -> None:
        cycle = self.cycle
        if cycle is None or not cycle.more_body:
            return
        if self.chunk_state is None:
            take = bytes(self.buffer[: self.body_left])
            del self.buffer[: len(take)]
            self.body_left -= len(take)
            if take or not self.body_left:
                cycle.feed(take, self.body_left > 0)
            return
        self._feed_chunked(cycle)

    def _feed_chunked(self, cycle: _Cycle) -> None:
        out, state, buffer = bytearray(), self.chunk_state, self.buffer
        while True:  # state: [bytes left in this chunk, the CRLF after its data is owed]
            if state[0]:
                take = buffer[: state[0]]
                out += take
                del buffer[: len(take)]
                state[0] -= len(take)
                if state[0]:
                    break
                state[1] = True
                continue
            if state[1]:
                if len(buffer) < 2:
                    break
                if buffer[:2] != b"\r\n":
                    raise BadRequest
                del buffer[:2]
                state[1] = False
                continue
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > MAX_CHUNK_LINE:
                    raise BadRequest
                break
            size = chunk_size(bytes(buffer[:line_end]))
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise BadRequest
                    break
                del buffer[: trailer_end + 4]
                cycle.feed(bytes(out), False)
                return
            del buffer[: line_end + 2]
            state[0] = size
        if out:
            cycle.feed(bytes(out), True)

    # ---------------------------------------------------------------- request lifecycle
    async def _run(self, scope: dict, cycle: _Cycle) -> None:
        try:
            await self.app(scope, cycle.receive, cycle.send)
        except asyncio.CancelledError:
            self.close()
            raise
        except Exception:
            log.exception("exception in ASGI application")
            if not cycle.started and not self.closed:
                self.transport.write(_SERVER_ERROR)
            self.close()
            return
        if not cycle.complete and not self.closed:
            if not cycle.started:
                self.transport.write(_SERVER_ERROR)
            self.close()

    def finished(self, cycle: _Cycle) -> None:
        """The response is complete: close, or start the next pipelined request."""
        if cycle is not self.cycle:
            return
        if not cycle.keep_alive or cycle.more_body or self.shutting_down:
            self.close()
            return
        self.cycle = None
        self.resume()
        if self.buffer:
            try:
                self._process()
            except BadRequest:
                self.reject()
        if self.cycle is None:
            self._arm_idle()

    def resume(self) -> None:
        if self.paused_reading:
            self.paused_reading = False
            self.transport.resume_reading()

    def _arm_idle(self) -> None:
        self.idle_timer = self.loop.call_later(self.config.timeout_keep_alive, self.close)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    def shutdown(self) -> None:
        """Called by uvicorn on exit: close idle connections, finish busy ones first."""
        self.shutting_down = True
        if self.cycle is None or self.cycle.complete:
            self.close()
