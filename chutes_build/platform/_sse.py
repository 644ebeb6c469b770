"""Parsers for the platform's streamed answers (CHUTES_API.md §3.5 and §5).

Image build logs: one frame per line, ``data: {"log": {"log_type", "log"},
"offset"}``; ``.`` keep-alives; ``DONE`` at the end; ``data: ERROR: …`` on a
server-side failure. Warmup: ``data: {"status": "cold"|"hot", "log": …}``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from ._errors import PlatformError

__all__ = ["LogLine", "parse_image_log_lines", "parse_warmup_lines"]


@dataclass(frozen=True)
class LogLine:
    """One line of a build log; ``stream`` is the platform's ``log_type``."""

    stream: str
    text: str


def _frame(line: str) -> dict | None:
    try:
        data = json.loads(line[len("data:") :].strip())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def parse_image_log_lines(lines: AsyncIterable[str]) -> AsyncIterator[LogLine | str]:
    """Yield :class:`LogLine` items, and each event's ``offset`` (a str) after its line.

    Returns at ``DONE``; raises :class:`PlatformError` on ``data: ERROR``.
    """
    async for raw in lines:
        line = raw.strip("\r\n")
        if not line.strip() or line.strip() == ".":
            continue
        if line.startswith("DONE"):
            return
        if line.startswith("data: ERROR") or line.startswith("data:ERROR"):
            raise PlatformError(
                f"the platform's log stream failed: {line[5:].strip()}",
                fix="retry; the build itself may still succeed",
            )
        if not line.startswith("data:"):
            continue
        frame = _frame(line)
        if frame is None:
            continue
        log = frame.get("log")
        if isinstance(log, dict):
            yield LogLine(str(log.get("log_type", "stdout")), str(log.get("log", "")).rstrip("\n"))
        elif log is not None:
            yield LogLine("stdout", str(log).rstrip("\n"))
        if frame.get("offset"):
            yield str(frame["offset"])


async def parse_warmup_lines(lines: AsyncIterable[str]) -> AsyncIterator[dict]:
    """Yield warmup events until (and including) the first ``status == "hot"``."""
    async for raw in lines:
        line = raw.strip()
        if not line.startswith("data:"):
            continue
        frame = _frame(line)
        if frame is None:
            continue
        yield frame
        if frame.get("status") == "hot":
            return
