"""Passthrough cords against a real upstream server, and the h11 client on raw sockets."""

from __future__ import annotations

import asyncio

import httpx

from chutes_runtime._upstream import fetch

from .conftest import Served, Upstream


def test_passthrough_forwards_body_and_method(dev: Served, upstream: tuple[Upstream, int]) -> None:
    answer = httpx.post(dev.url + "/complete", json={"prompt": "hi"})
    assert answer.status_code == 200
    assert answer.json() == {"got": {"prompt": "hi"}}
    assert upstream[0].requests[-1][:2] == ("POST", "/up/complete")


def test_passthrough_streams_chunked_upstream(dev: Served) -> None:
    with httpx.stream("POST", dev.url + "/complete_stream", json={}) as response:
        body = b"".join(response.iter_raw())
    assert body == b"data: 0\n\ndata: 1\n\ndata: 2\n\ndata: [DONE]\n\n"


def test_client_disconnect_aborts_upstream(dev: Served, upstream: tuple[Upstream, int]) -> None:
    upstream[0].hang_closed.clear()
    with httpx.stream("POST", dev.url + "/hang", json={}) as response:
        first = next(response.iter_raw())
        assert first == b"data: first\n\n"
    assert upstream[0].hang_closed.wait(20), "upstream never saw the client leave"


def _raw_server(payload: bytes) -> tuple[int, list[bytes]]:
    """Run ``fetch`` against a one-shot asyncio server that answers ``payload``."""
    seen: list[bytes] = []

    async def main() -> tuple[int, bytes]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(payload)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await fetch(f"http://127.0.0.1:{port}/x", "GET")

    status, body = asyncio.run(main())
    return status, [body, *seen]


def test_client_reads_content_length_chunked_and_close_delimited() -> None:
    status, (body, _) = _raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    assert (status, body) == (200, b"hello")
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    status, (body, _) = _raw_server(chunked)
    assert (status, body) == (201, b"abcde")
    status, (body, request) = _raw_server(b"HTTP/1.0 200 OK\r\n\r\nuntil close")
    assert (status, body) == (200, b"until close")
    assert request.startswith(b"GET /x HTTP/1.1\r\n")
