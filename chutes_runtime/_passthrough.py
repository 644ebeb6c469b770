"""Passthrough cords: the body goes to a local upstream and its answer streams back.

A passthrough cord forwards the body to ``127.0.0.1:<passthrough_port><passthrough_path>``
with the cord's method (through the h11 client of ``_upstream``) and relays the upstream
answer as it arrives; when the client goes away the upstream socket is closed, which is
how vLLM/SGLang notice an aborted request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import h11

from ._guard import until_disconnect
from ._http import send_json
from ._upstream import Upstream, open_upstream

__all__ = ["serve_passthrough"]

log = logging.getLogger("chutes_runtime")


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
    status: list[int] = []

    async def work() -> None:
        status.append(await _forward(app, cord, send, body, framing, extra))

    if not await until_disconnect(receive, work()):
        log.info("client left during passthrough %s; upstream closed", cord.name)
        return 499
    return status[0]
