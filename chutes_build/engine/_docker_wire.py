"""The Engine API's wire details for ``ApiDocker``: errors, log frames, request bodies.

The engine answers an error with a status and ``{"message": ...}``; a container's log
(without a TTY) comes as frames of an 8-byte header (stream, three zero bytes, a
big-endian size) and the payload; ``POST /containers/create`` takes what ``docker run``
options say as one JSON body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import trio

from ._decide import container_info as info
from ._docker import failure_fix

__all__ = ["Refused", "create_body", "demux", "each", "error", "info", "message"]

_PARALLEL = 8


class Refused(Exception):
    """The engine answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def demux(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Frames ``(stream, payload)`` of the engine's multiplexed log stream, and the
    unfinished rest. Output that is not framed (a TTY container) is one stdout frame."""
    frames, offset = [], 0
    while len(data) - offset >= 8:
        head = data[offset : offset + 8]
        if head[0] not in (0, 1, 2) or head[1:4] != b"\0\0\0":
            return [*frames, (1, data[offset:])], b""
        size = int.from_bytes(head[4:8], "big")
        if len(data) - offset - 8 < size:
            break
        frames.append((head[0], data[offset + 8 : offset + 8 + size]))
        offset += 8 + size
    return frames, data[offset:]


async def each(items: Sequence[str], fn: Callable[[str], Any]) -> None:
    """``await fn(item)`` for each item, a few at a time; the first failure is raised
    as itself (a cancellation or interrupt keeps its group)."""
    limit = trio.CapacityLimiter(_PARALLEL)

    async def one(item: str) -> None:
        async with limit:
            await fn(item)

    try:
        async with trio.open_nursery() as nursery:
            for item in items:
                nursery.start_soon(one, item)
    except BaseExceptionGroup as group:
        leaves = _leaves(group)
        if not all(isinstance(leaf, Exception) for leaf in leaves):
            raise
        raise leaves[0] from None


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return found


def message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or f"HTTP {response.status_code}"
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)


def error(kind: type[Exception], words: Sequence[str], exc: Refused) -> Exception:
    detail = f"Error response from daemon: {exc.message}"
    return kind(f"`docker {' '.join(words)}` failed (HTTP {exc.status}): {detail}",
                fix=failure_fix(detail, words))  # fmt: skip


def create_body(
    image: str,
    *,
    command: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    mounts: Mapping[str, str] | None = None,
    network: str = "host",
    gpus: str | None = None,
) -> dict[str, Any]:
    """What ``POST /containers/create`` takes for ``docker run`` of these options."""
    body: dict[str, Any] = {
        "Image": image,
        "Labels": dict(labels or {}),
        "Env": [f"{key}={value}" for key, value in sorted((env or {}).items())],
        "HostConfig": {
            "NetworkMode": network,
            "Mounts": [{"Type": "bind", "Source": host, "Target": inside, "ReadOnly": True}
                       for host, inside in sorted((mounts or {}).items())],  # fmt: skip
        },
    }
    if command:
        body["Cmd"] = list(command)
    return body
