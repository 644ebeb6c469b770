"""Reloading a running chute's code: the client of the runtime's dev reload endpoint.

A chute served in dev mode (``python -m chutes_runtime ... --dev``, as the local target
starts it) answers ``POST /_chutes_build/reload`` from 127.0.0.1: it writes the files it
is given under the chute's code root, imports the chute again and swaps the new app in,
while requests in flight finish on the old code (``chutes_runtime._reload``). A reload
whose new code fails keeps the old code serving; the result carries the error with its
file (relative to the code root) and line.

:func:`reload_code` sends one reload and returns its :class:`ReloadResult`, failed or
not; it raises :class:`~chutes_build.DeployError` only when the runtime cannot reload
at all (not reachable, or serving in production mode, where the endpoint does not
exist), which is when the caller restarts the container instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

from ..core import DeployError

if TYPE_CHECKING:  # httpx is imported when first needed, as in _containers
    import httpx

__all__ = ["RELOAD_PATH", "ReloadFailure", "ReloadResult", "reload_code"]

RELOAD_PATH = "/_chutes_build/reload"


class ReloadFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a reload did not swap the code: ``text`` is ``file:line: message`` + fix."""

    message: str
    file: str | None = None
    line: int | None = None
    fix: str | None = None
    text: str = ""


class ReloadResult(msgspec.Struct, frozen=True, kw_only=True):
    """The runtime's answer: ``ok`` when the new code serves (as ``generation``)."""

    ok: bool
    status: int = 200
    chute: str = ""
    generation: int = 0
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    seconds: float = 0.0
    error: ReloadFailure | None = None


class _Body(msgspec.Struct):
    files: list[dict[str, object]]


def _encode(files: Mapping[str, bytes]) -> bytes:
    """The request body; file data travels base64-encoded in JSON."""
    for path, data in files.items():
        if not isinstance(data, bytes):
            raise TypeError(f"reload_code: the content of {path!r} must be bytes")
    body = _Body([{"path": path, "data": data} for path, data in sorted(files.items())])
    return msgspec.json.encode(body)


def _unreachable(url: str, detail: str) -> DeployError:
    return DeployError(
        f"cannot reload the code of the chute at {url}: {detail}",
        fix="restart its container (`chutes-build up --target local`); code reload needs "
        "the runtime in dev mode on this machine",
    )


async def reload_code(
    url: str,
    files: Mapping[str, bytes],
    *,
    timeout: float = 60.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ReloadResult:
    """Send ``files`` (``{path relative to the code root: bytes}``; none: re-import what
    is on disk) to the runtime serving at ``url`` and reload its code."""
    import httpx

    endpoint = url.rstrip("/") + RELOAD_PATH
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        try:
            response = await client.post(endpoint, content=_encode(files), headers=headers)
        except httpx.TransportError as exc:
            raise _unreachable(url, f"{type(exc).__name__}: {exc}") from None
    if response.status_code in (404, 405):
        raise _unreachable(url, "the runtime serves no reload endpoint (production mode?)")
    try:
        result = msgspec.json.decode(response.content, type=ReloadResult)
    except (msgspec.DecodeError, msgspec.ValidationError):
        detail = response.text.strip()[:300] or "an empty body"
        raise _unreachable(url, f"HTTP {response.status_code}: {detail}") from None
    return msgspec.structs.replace(result, status=response.status_code)
