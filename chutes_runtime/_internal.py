"""Internal endpoints: health, metrics, connection stats, OpenAPI, and the validator's checks.

Each endpoint is a function ``(app, value, scope) -> result`` where ``value``
is the decoded JSON body (or ``None``). A result is JSON-encoded unless it is
:class:`Raw`. In production mode, endpoints marked ``encrypt`` answer
``{"json": enc(result)}`` as the SDK does (CHUTES_API.md §6.6).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import msgspec

from ._codec import encode_json
from ._http import BodyTooLarge, query_params, read_body, send_bytes, send_json
from ._openapi import openapi

__all__ = ["Internal", "Raw", "internal_routes"]

_PROMETHEUS = b"text/plain; version=0.0.4; charset=utf-8"


class Raw:
    """A reply sent as these bytes with this content type (never wrapped)."""

    __slots__ = ("body", "content_type")

    def __init__(self, body: bytes, content_type: bytes) -> None:
        self.body, self.content_type = body, content_type


class Internal:
    """One internal endpoint."""

    __slots__ = ("encrypt", "fn")

    def __init__(self, fn: Callable, encrypt: bool = False) -> None:
        self.fn, self.encrypt = fn, encrypt

    async def plain(self, app: Any, scope: dict, receive: Any, send: Any) -> None:
        value = None
        if scope["method"] in ("POST", "PUT", "PATCH"):
            try:
                body = await read_body(scope, receive, 1024 * 1024)
                value = msgspec.json.decode(body) if body else None
            except BodyTooLarge:
                await send_json(send, 413, {"detail": "request body too large"})
                return
            except (msgspec.DecodeError, UnicodeDecodeError):
                await send_json(send, 400, {"detail": "malformed JSON body"})
                return
        await self.respond(app, scope, send, value, None)

    async def respond(
        self,
        app: Any,
        scope: dict,
        send: Any,
        value: Any,
        encrypt: Callable | None,
        extra: list | None = None,
    ) -> None:
        try:
            result = self.fn(app, value, scope)
        except (KeyError, TypeError, ValueError) as exc:
            await send_json(send, 400, {"detail": f"bad request: {exc}"}, extra)
            return
        except FileNotFoundError:
            await send_json(send, 404, {"detail": "not found"}, extra)
            return
        if isinstance(result, Raw):
            await send_bytes(send, 200, result.body, result.content_type, extra)
        elif encrypt is not None and self.encrypt:
            await send_json(send, 200, {"json": encrypt(encode_json(result))}, extra)
        else:
            await send_json(send, 200, result, extra)


def _slurp(app: Any, value: dict, scope: dict) -> Any:
    path = value["path"]
    if path in ("__file__", "__run__"):
        path = getattr(app.module, "__file__", None) or ""
        with open(path, "rb") as handle:
            return Raw(base64.b64encode(handle.read()), b"text/plain")
    if os.path.isdir(path):
        return {"dir": sorted(os.listdir(path))}
    start, end = int(value.get("start_byte") or 0), value.get("end_byte")
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read() if end is None else handle.read(int(end) - start)
    return {"contents": base64.b64encode(data).decode()}


def internal_routes(app: Any) -> dict[tuple[str, str], Internal]:
    """The internal endpoints this app serves (GPU ones only when a GPU part is present)."""
    routes = {
        # Who answers: a caller checks it reached this chute, not another on the port.
        ("GET", "/_ping"): Internal(
            lambda a, v, s: {"ok": True, "chute": a.chute.name, "deploy": a.settings.deploy_key}
        ),
        ("POST", "/_ping"): Internal(lambda a, v, s: v, encrypt=True),
        ("GET", "/_alive"): Internal(lambda a, v, s: {"alive": True}),
        ("GET", "/_metrics"): Internal(
            lambda a, v, s: Raw(a.metrics.render().encode(), _PROMETHEUS)
        ),
        ("GET", "/_conn_stats"): Internal(lambda a, v, s: a.metrics.conn_stats()),
    }
    doc = openapi(app.chute, app.settings.dev)
    routes[("GET", "/openapi.json")] = Internal(lambda a, v, s: Raw(doc, b"application/json"))
    if app.gate is not None:
        routes[("POST", "/_slurp")] = Internal(_slurp, encrypt=True)
    if app.gpu is not None:
        gpu = app.gpu
        routes[("GET", "/_devices")] = Internal(lambda a, v, s: gpu.devices())
        routes[("GET", "/_device_challenge")] = Internal(
            lambda a, v, s: Raw(
                gpu.device_challenge(query_params(s)["challenge"]).encode(), b"text/plain"
            )
        )
        routes[("POST", "/_fs_challenge")] = Internal(
            lambda a, v, s: Raw(
                gpu.fs_challenge(v["filename"], int(v["offset"]), int(v["length"])).encode(),
                b"text/plain",
            )
        )
    return routes
