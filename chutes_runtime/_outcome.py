"""How a cord's failure is answered: as the SDK's FastAPI server does, always in JSON.

- ``HTTPException`` raised by a cord (fastapi's is a subclass of starlette's, so it is
  recognised without importing fastapi): its status, its headers and
  ``{"detail": detail}``; no body for statuses that allow none (1xx, 204, 205, 304).
- A cord past its time limit: 504 ``{"detail": "cord NAME timed out after N s"}``.
- Any other exception: 500 ``{"detail": "Internal Server Error"}`` (the SDK answers
  these words as text/plain; every error of this runtime is JSON).
- A result that cannot be encoded as JSON: the same 500, and one log line naming the
  cord and the type (no traceback: the fix is in the cord, not in the runtime).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException

from ._codec import encode_json
from ._http import send_bytes, send_json

__all__ = ["ERROR_500", "Unencodable", "encoded", "send_http_exception", "send_unencodable"]

log = logging.getLogger("chutes_runtime")

ERROR_500 = {"detail": "Internal Server Error"}


class Unencodable(Exception):
    """A cord's result that msgspec cannot encode (raised before anything was sent)."""

    def __init__(self, result: Any, error: Exception) -> None:
        super().__init__(str(error))
        self.kind = type(result).__name__


def encoded(result: Any) -> bytes:
    """``result`` as JSON; :class:`Unencodable` when msgspec cannot encode it."""
    try:
        return encode_json(result)
    except (TypeError, ValueError, OverflowError, NotImplementedError) as exc:
        raise Unencodable(result, exc) from None


def _no_body(status: int) -> bool:
    return status < 200 or status in (204, 205, 304)


def _headers(exc: HTTPException) -> list[tuple[bytes, bytes]]:
    return [
        (str(name).lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in (exc.headers or {}).items()
    ]


async def send_http_exception(send: Any, exc: HTTPException, name: str, extra: list) -> int:
    """Answer a cord's ``HTTPException``; returns the status sent."""
    status, headers = exc.status_code, _headers(exc) + extra
    if _no_body(status):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return status
    try:
        body = encode_json({"detail": exc.detail})
    except (TypeError, ValueError, OverflowError) as error:
        log.error("cord %s raised HTTPException(%d) whose detail cannot be encoded as JSON: %s",
                  name, status, error)  # fmt: skip
        await send_json(send, 500, ERROR_500, extra)
        return 500
    await send_bytes(send, status, body, b"application/json", headers)
    return status


async def send_unencodable(send: Any, exc: Unencodable, name: str, extra: list) -> int:
    log.error(
        "cord %s returned a %s, which cannot be encoded as JSON (%s); return a dict, list, "
        "str, number, msgspec Struct or pydantic model, or a starlette Response",
        name, exc.kind, exc,
    )  # fmt: skip
    await send_json(send, 500, ERROR_500, extra)
    return 500
