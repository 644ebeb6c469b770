"""Warming chutes after a deploy: follow each one's warmup stream until it is hot, all in
parallel (``GET /chutes/warmup/{name}``, server-sent ``{"status": "cold"|"hot", "log"}``
frames, CHUTES_API.md §5). A chute that is still cold on a freshly deployed version answers
404/503 to invocations (chutesai/chutes#31); warming it first avoids that."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import trio

from ._client import ChutesClient
from ._errors import PlatformError

__all__ = ["warm_chutes"]


async def _warm_one(client: ChutesClient, chute: str, on_event: Callable[[str, dict], Any],
                    clock: Callable[[], float]) -> dict:  # fmt: skip
    started = clock()
    try:
        async for event in client.warmup(chute):
            on_event(chute, event)
            if event.get("status") == "hot":
                return {"state": "hot", "seconds": round(clock() - started, 3)}
    except PlatformError as exc:
        if exc.status == 402:
            exc.fix = "add balance: the platform warms chutes only while the balance is above 0"
        exc.message = f"warming {chute}: {exc.message}"
        return {"state": "failed", "error": exc.render()}
    return {"state": "failed", "error": f"the warmup stream of {chute} ended before it was hot"}


async def warm_chutes(
    client: ChutesClient,
    chutes: list[str],
    on_event: Callable[[str, dict], Any] = lambda chute, event: None,
    *,
    limit: int = 32,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, dict]:
    """Warm ``chutes`` (names or ids) in parallel; ``{chute: {"state": "hot", "seconds"} or
    {"state": "failed", "error"}}``. ``on_event(chute, event)`` sees every status frame."""
    results: dict[str, dict] = {}
    limiter = trio.CapacityLimiter(limit)

    async def one(chute: str) -> None:
        async with limiter:
            results[chute] = await _warm_one(client, chute, on_event, clock)

    async with trio.open_nursery() as nursery:
        for chute in chutes:
            nursery.start_soon(one, chute)
    return results
