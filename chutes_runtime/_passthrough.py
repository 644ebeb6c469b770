"""A small HTTP/1.1 client on asyncio streams + h11, and passthrough cords built on it.

Passthrough cords forward the body to ``127.0.0.1:<passthrough_port><passthrough_path>``
with the cord's method and stream the upstream answer back. h11 does the
framing (content-length, chunked, close-delimited), so both directions stream
without buffering; when the client goes away the upstream socket is closed,
which is how vLLM/SGLang notice an aborted request.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import h11

from ._http import send_json

__all__ = ["Upstream", "fetch", "open_upstream", "serve_passthrough"]

log = logging.getLogger("chutes_runtime")
_READ = 65536


class Upstream:
    """An upstream response whose head has been read; iterate :meth:`chunks` for the body."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: h11.Connection,
        head: h11.Response,
    ) -> None:
        self._reader, self._writer, self._conn = reader, writer, conn
        self.status = head.status_code
        self.headers = [(bytes(k), bytes(v)) for k, v in head.headers]

    @property
    def content_type(self) -> bytes:
        return next(
            (v for k, v in self.headers if k == b"content-type"), b"application/octet-stream"
        )

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                self._conn.receive_data(await self._reader.read(_READ))
            elif isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def close(self) -> None:
        self._writer.close()


async def open_upstream(
    host: str,
    port: int,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    tls: ssl.SSLContext | None = None,
    connect_timeout: float = 30.0,
) -> Upstream:
    """Send one request (``Connection: close``) and read the response head."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=tls), connect_timeout
    )
    try:
        conn = h11.Connection(h11.CLIENT)
        all_headers = [
            ("host", f"{host}:{port}"),
            ("connection", "close"),
            ("content-length", str(len(body))),
            *headers,
        ]
        writer.write(conn.send(h11.Request(method=method, target=target, headers=all_headers)))
        if body:
            writer.write(conn.send(h11.Data(data=body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(_READ))
            elif isinstance(event, h11.Response):
                return Upstream(reader, writer, conn, event)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("upstream closed the connection before answering")
    except BaseException:
        writer.close()
        raise


async def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, bytes]:
    """One whole request to an ``http(s)://`` URL: ``(status, body)``."""
    parts = urlsplit(url)
    tls = ssl.create_default_context() if parts.scheme == "https" else None
    port = parts.port or (443 if tls else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    upstream = await open_upstream(
        parts.hostname or "", port, method, target, list((headers or {}).items()), body, tls
    )
    try:
        return upstream.status, await upstream.read()
    finally:
        upstream.close()


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Re-split a byte stream into lines (each keeps its ``\\n``), as aiohttp's reader does."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


async def _forward(app: Any, cord: Any, send: Any, body: bytes, framing: Any, extra: list) -> int:
    spec = cord.cord
    headers = [
        ("content-type", "application/json"),
        *((str(k), str(v)) for k, v in app.chute.passthrough_headers.items()),
    ]
    try:
        upstream = await open_upstream(
            "127.0.0.1",
            spec.passthrough_port or 8000,
            spec.method,
            spec.passthrough_path,
            headers,
            body or b"",
        )
    except (TimeoutError, OSError) as exc:
        log.error("passthrough %s: upstream unavailable: %s", cord.name, exc)
        await send_json(send, 502, {"detail": "upstream unavailable"}, extra)
        return 502
    try:
        if not 200 <= upstream.status < 300:
            await framing.upstream_error(
                send, upstream.status, await upstream.read(), upstream.content_type, extra
            )
            return upstream.status
        if not cord.streams:
            await framing.upstream_result(send, await upstream.read(), upstream.content_type, extra)
            return 200
        await _relay(upstream, send, framing, extra, cord.name)
        return 200
    finally:
        upstream.close()


async def _relay(upstream: Upstream, send: Any, framing: Any, extra: list, name: str) -> None:
    """Stream the upstream body to the client (re-split into lines when encrypting)."""
    content_type = framing.upstream_stream_type(upstream.content_type)
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", content_type), *extra],
    }
    await send(start)
    chunks = _lines(upstream.chunks()) if framing.encrypted else upstream.chunks()
    try:
        async for chunk in chunks:
            await send(
                {"type": "http.response.body", "body": framing.chunk(chunk), "more_body": True}
            )
    except (OSError, h11.ProtocolError) as exc:
        log.error("passthrough %s: upstream stream broke: %s", name, exc)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def serve_passthrough(
    app: Any,
    cord: Any,
    scope: dict,
    receive: Any,
    send: Any,
    body: bytes,
    framing: Any,
    extra: list,
) -> int:
    """Forward to the upstream; a client disconnect closes the upstream connection (499)."""
    from ._guard import until_disconnect

    status: list[int] = []

    async def work() -> None:
        status.append(await _forward(app, cord, send, body, framing, extra))

    if not await until_disconnect(receive, work()):
        log.info("client left during passthrough %s; upstream closed", cord.name)
        return 499
    return status[0]
