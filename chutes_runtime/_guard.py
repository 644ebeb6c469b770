"""Bounding one cord call: a client that leaves cancels it (499), a time limit ends it (504).

The runtime's own HTTP/1.1 protocol cancels a request's task when its connection
is lost before the response is complete, and says so in the scope
(:data:`CANCELS_ON_DISCONNECT`); then a call needs no extra task. Under another
server (uvicorn's h11) a second task watches ``receive`` for ``http.disconnect``
while the call runs. Either way the concurrency slot is freed when the client goes:
an async cord is cancelled at its next ``await``; a sync cord's thread runs on until
its function returns (Python cannot stop a thread), which the log says.

Time limits are kept in :class:`Deadlines`: the calls in flight with their deadlines,
and one sweep per tick that cancels the overdue ones (a timer per call cost more
than the rest of a small request).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ._http import ClientGone

__all__ = [
    "CANCELS_ON_DISCONNECT",
    "CordTimeout",
    "Deadlines",
    "guarded_call",
    "unless_disconnected",
    "until_disconnect",
]

log = logging.getLogger("chutes_runtime")

#: Scope extension set by a server that cancels the request task when the client leaves.
CANCELS_ON_DISCONNECT = "chutes_runtime.cancels_on_disconnect"


class CordTimeout(Exception):
    """A cord ran past its time limit (``seconds``) and was cancelled."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


async def _disconnected(receive: Callable[[], Awaitable[dict]]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(receive: Callable[[], Awaitable[dict]], work: Awaitable[Any]) -> Any:
    """``work``'s result; :class:`ClientGone` (``work`` cancelled) if the client leaves first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        watcher.cancel()
        raise
    watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("cleanup after a client disconnect failed")
    raise ClientGone


async def until_disconnect(receive: Callable[[], Awaitable[dict]], work: Awaitable[Any]) -> bool:
    """Run ``work`` until done (True) or the client disconnects first (cancel it, False)."""
    try:
        await unless_disconnected(receive, work)
    except ClientGone:
        return False
    return True


class Deadlines:
    """Time limits of the calls in flight, enforced by one sweep per ``tick`` on the loop
    (no timer per call: the hot path only adds and removes a dict entry)."""

    def __init__(self, tick: float) -> None:
        self.tick = tick
        self.calls: dict[asyncio.Task, float] = {}
        self.expired: set[asyncio.Task] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._timer = self.loop.call_later(self.tick, self._sweep)

    def stop(self) -> None:
        """End the sweep (the app was shut down or replaced by a reload)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _sweep(self) -> None:
        now = self.loop.time()
        for task, deadline in list(self.calls.items()):
            if deadline <= now and task not in self.expired:
                self.expired.add(task)
                task.cancel()  # the task is suspended inside its call: it lands there
        self._timer = self.loop.call_later(self.tick, self._sweep)


async def guarded_call(
    scope: dict,
    receive: Callable[[], Awaitable[dict]],
    work: Awaitable[Any],
    seconds: float | None,
    deadlines: Deadlines,
) -> Any:
    """``work``'s result within ``seconds``; :class:`CordTimeout` past them, ClientGone
    (or this task's cancellation, under the runtime's protocol) when the client leaves."""
    extensions = scope.get("extensions")
    if extensions is None or CANCELS_ON_DISCONNECT not in extensions:
        work = unless_disconnected(receive, work)
    if seconds is None or deadlines.loop is None:
        return await work
    task = asyncio.current_task()
    deadlines.calls[task] = deadlines.loop.time() + seconds
    try:
        return await work
    except asyncio.CancelledError:
        if task not in deadlines.expired:
            raise
        raise CordTimeout(seconds) from None
    finally:
        del deadlines.calls[task]
        if task in deadlines.expired:
            deadlines.expired.discard(task)
            task.uncancel()
