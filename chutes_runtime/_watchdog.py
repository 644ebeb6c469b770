"""Noticing a stalled event loop, and logging repeated trouble once per interval.

An async cord that blocks (``time.sleep``, a CPU-bound loop, a synchronous client)
stops the event loop: ``/_ping`` and every other request wait behind it. The
:class:`LoopWatchdog` keeps a heartbeat on the loop (a timer every quarter of the
threshold) and a thread that reads it; when the beat is older than the threshold it
logs one line naming where the loop's thread is stuck (file:line and function, from
``sys._current_frames``), at most once per interval.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time

__all__ = ["LoopWatchdog", "Throttle"]

log = logging.getLogger("chutes_runtime")


class Throttle:
    """Lets one report through per ``interval`` seconds and counts the ones held back."""

    __slots__ = ("interval", "last", "held")

    def __init__(self, interval: float) -> None:
        self.interval, self.last, self.held = interval, float("-inf"), 0

    def ready(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if now - self.last >= self.interval:
            self.last = now
            return True
        self.held += 1
        return False

    def take_held(self) -> int:
        held, self.held = self.held, 0
        return held


def _where(thread_id: int | None) -> str:
    """``file.py:12 in name`` of the innermost Python frame of that thread."""
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    if frame is None:
        return "an unknown place"
    code = frame.f_code
    return f"{os.path.basename(code.co_filename)}:{frame.f_lineno} in {code.co_name}"


class LoopWatchdog:
    """Logs when ``loop`` has not turned for ``threshold`` seconds (once per ``interval``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float, interval: float) -> None:
        self.loop, self.threshold = loop, threshold
        self.tick = threshold / 4
        self.throttle = Throttle(interval)
        self.beat = time.monotonic()
        self.loop_thread: int | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)

    def start(self) -> None:
        """Start beating (call on the loop's thread) and watching."""
        self.loop_thread = threading.get_ident()
        self._beat()
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _beat(self) -> None:
        self.beat = time.monotonic()
        if not self.stopped.is_set():
            self.loop.call_later(self.tick, self._beat)

    def _watch(self) -> None:
        stalled = False
        while not self.stopped.wait(self.tick):
            lag = time.monotonic() - self.beat
            if lag < self.threshold:
                stalled = False
            elif not stalled:
                stalled = True
                if self.throttle.ready():
                    self._report(lag)

    def _report(self, lag: float) -> None:
        held = self.throttle.take_held()
        more = f" ({held} more stalls since the last report)" if held else ""
        log.warning(
            "event loop blocked for %.1f s at %s: /_ping and every request wait meanwhile%s; "
            "an async cord must not block (await asyncio.sleep(), use an async client, or "
            "make it a plain def: sync cords run in threads)",
            lag, _where(self.loop_thread), more,
        )  # fmt: skip
