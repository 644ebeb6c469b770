"""A small HTTP/1.1 client on asyncio streams + h11.

Passthrough cords (``_passthrough``), the job runner and the production launch
handshake talk to other servers through it. h11 does the framing (content-length,
chunked, close-delimited), so a response body streams without buffering; closing
the socket is how an upstream such as vLLM notices an aborted request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import h11

__all__ = ["Upstream", "fetch", "open_upstream"]

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
