"""Production mode's front door: IP pinning, encrypted paths, signatures, encrypted bodies.

Mirrors the SDK's GraVal middleware (CHUTES_API.md §6.3, §6.4): the path is
hex(cipher(path padded with '?')), the body is base64(cipher(gzip(json))),
results go back as ``{"json": enc(...)}`` and stream chunks as ``enc(chunk)\\n``.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import msgspec
from starlette.responses import Response

from ._cords import chunk_bytes
from ._crypto import SessionCipher, open_body
from ._http import BodyTooLarge, ClientGone, read_body, send_json
from ._outcome import encoded

__all__ = ["EncryptedFraming", "SecureGate"]

log = logging.getLogger("chutes_runtime")
_BODY_METHODS = ("POST", "PUT", "PATCH")
_PLAIN_PATHS = ("/_metrics", "/_conn_stats")


def _private(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified
    )


def _response_body(response: Response) -> bytes:
    body = getattr(response, "body", None)
    if body is None and getattr(response, "path", None):  # FileResponse
        with open(response.path, "rb") as handle:
            return handle.read()
    return body or b""


class EncryptedFraming:
    """How results, chunks and upstream answers are wrapped for the validator."""

    encrypted = True

    def __init__(self, cipher: SessionCipher, headers: list) -> None:
        self.cipher, self.headers = cipher, headers

    async def result(
        self, scope: dict, receive: Any, send: Any, cord: Any, result: Any, extra: list
    ) -> None:  # noqa: E501
        if isinstance(result, Response):
            payload = {
                "type": type(result).__name__,
                "status_code": result.status_code,
                "headers": dict(result.headers),
                "media_type": result.media_type,
                "body": self.cipher.enc(_response_body(result)),
            }
        elif isinstance(result, bytes):
            payload = {
                "type": "Response",
                "status_code": 200,
                "headers": {},
                "media_type": cord.cord.output_content_type,
                "body": self.cipher.enc(result),
            }
        else:
            payload = {"json": self.cipher.enc(encoded(result))}
        await send_json(send, 200, payload, extra)

    def chunk(self, chunk: Any) -> bytes:
        return (self.cipher.enc(chunk_bytes(chunk)) + "\n").encode()

    def stream_type(self, cord: Any) -> bytes:
        return b"text/event-stream"

    async def upstream_error(
        self, send: Any, status: int, body: bytes, content_type: bytes, extra: list
    ) -> None:  # noqa: E501
        try:
            detail = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError):
            detail = body.decode(errors="replace")
        await send_json(send, status, {"detail": detail}, extra)

    async def upstream_result(
        self, send: Any, body: bytes, content_type: bytes, extra: list
    ) -> None:
        await send_json(send, 200, {"json": self.cipher.enc(body)}, extra)

    def upstream_stream_type(self, content_type: bytes) -> bytes:
        return b"text/event-stream"


class SecureGate:
    """Checks and decrypts one request, then hands it to the app's normal dispatch."""

    def __init__(self, verifier: Any, cipher: SessionCipher, max_body_bytes: int) -> None:
        self.verifier, self.cipher, self.max_body = verifier, cipher, max_body_bytes

    async def handle(self, app: Any, scope: dict, receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        client = scope["client"][0] if scope.get("client") else ""
        pinned = headers.get(b"x-conn-expip")
        extra = [(b"x-conn-expip", pinned)] if pinned else []
        if pinned and (_private(client) or client != pinned.decode()):
            await send_json(send, 403, {"detail": "IP mismatch"}, extra)
            return
        if scope["path"] in _PLAIN_PATHS:
            if _private(client):
                await app.dispatch_plain(scope, receive, send)
            else:
                await send_json(send, 401, {"detail": "unauthorized"})
            return
        path = self._path(scope["path"])
        if path is None:
            await send_json(send, 404, {"detail": f"Bad path: {scope['path']}"})
            return
        body = await self._checked_body(scope, receive, send, headers)
        if body is not False:
            await self._dispatch(app, scope, receive, send, path, body, extra, headers)

    def _path(self, raw: str) -> str | None:
        try:
            return self.cipher.decrypt(bytes.fromhex(raw[1:])).decode().rstrip("?")
        except (ValueError, UnicodeDecodeError):
            return None

    async def _checked_body(self, scope: dict, receive: Any, send: Any, headers: dict) -> Any:
        """The decrypted JSON bytes (``b""`` without a body), or False once an error was sent."""
        if not self.verifier.check_headers(headers):
            await send_json(send, 401, {"detail": "go away (missing)"})
            return False
        body = None
        if scope["method"] in _BODY_METHODS:
            try:
                body = await read_body(scope, receive, self.max_body)
            except BodyTooLarge:
                await send_json(send, 413, {"detail": f"request body over {self.max_body} bytes"})
                return False
            except ClientGone:
                return False
        if not self.verifier.verify(headers, body):
            await send_json(send, 401, {"detail": "go away (sig)"})
            return False
        if not self.verifier.fresh(headers):
            await send_json(send, 401, {"detail": "go away (replay)"})
            return False
        if not body:
            return b""
        if headers.get(b"x-e2e-encrypted") == b"true":
            await send_json(
                send, 400, {"detail": "E2E encryption is not supported by this runtime"}
            )
            return False
        try:
            return open_body(self.cipher, body, self.max_body)
        except (ValueError, OSError, EOFError):
            await send_json(send, 400, {"detail": "Decryption failed"})
            return False

    async def _dispatch(
        self,
        app: Any,
        scope: dict,
        receive: Any,
        send: Any,
        path: str,
        body: bytes,
        extra: list,
        headers: dict,
    ) -> None:  # noqa: E501
        method = scope["method"]
        route = app.routes.get((method, path))
        if route is not None:
            await app.serve_cord(
                route, scope, receive, send, body, EncryptedFraming(self.cipher, extra)
            )
            return
        internal = app.internal.get((method, path))
        if internal is None:
            await send_json(send, 404, {"detail": "Not Found"}, extra)
            return
        try:
            value = msgspec.json.decode(body) if body else None
        except (msgspec.DecodeError, UnicodeDecodeError):
            await send_json(send, 400, {"detail": "malformed JSON body"}, extra)
            return
        await internal.respond(app, scope, send, value, self.cipher.enc, extra)
