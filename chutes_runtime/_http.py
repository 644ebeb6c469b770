"""Small ASGI helpers: bounded body reading and direct responses (no framework on the hot path)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from ._codec import encode_json

__all__ = [
    "BodyTooLarge",
    "ClientGone",
    "header",
    "query_params",
    "read_body",
    "send_bytes",
    "send_json",
]

_JSON = b"application/json"


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


class ClientGone(Exception):
    """The client disconnected before its body was read."""


def header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def query_params(scope: dict) -> dict[str, str]:
    """The query string as a dict (the last value of a repeated name wins)."""
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


async def read_body(scope: dict, receive: Any, limit: int) -> bytes:
    """The whole body; :class:`BodyTooLarge` as soon as it is known to exceed ``limit``."""
    length = header(scope, b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise BodyTooLarge
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > limit:
            raise BodyTooLarge
        return body
    parts, size = [body], len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


async def send_bytes(
    send: Any, status: int, body: bytes, content_type: bytes = _JSON, extra: list | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Any, status: int, obj: Any, extra: list | None = None) -> None:
    await send_bytes(send, status, encode_json(obj), _JSON, extra)
