"""Progress of a build or deploy run: a rich live table for people, JSON lines for scripts.

Both read the scheduler's events (:class:`~chutes_build.engine._scheduler.Event`)
and the build log lines. The JSON form writes one object per line as things
happen (``{"event": "running", "node": ..., "label": ...}``); the caller ends the
stream with one summary object.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["CachedEvent", "JsonProgress", "LiveProgress", "make_progress", "short_line"]

_STYLE = {
    "queued": "dim",
    "running": "yellow",
    "cached": "green",
    "done": "green",
    "failed": "red",
    "skipped": "dim",
    "cancelled": "red",
}
_MAX_ROWS = 24
#: A digest in a log line shows its first 12 hex digits, then an ellipsis.
_DIGEST = re.compile(r"\b(sha256:)?([0-9a-f]{12})[0-9a-f]{20,}\b")


@dataclass(frozen=True)
class _Kind:
    value: str = "cached"


@dataclass(frozen=True)
class CachedEvent:
    """The shape of a scheduler ``Event`` for a node found cached, without the scheduler
    (a run with nothing to do reports its nodes with it)."""

    node: str
    kind: _Kind = _Kind()
    error: None = None


def short_line(line: str) -> str:
    """A build log line for the live view: digests shortened to 12 hex digits."""
    return _DIGEST.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}…", line)


class JsonProgress:
    """One JSON object per line on ``stream``."""

    def __init__(self, labels: dict[str, str], stream: TextIO | None = None) -> None:
        self.labels, self.stream = labels, stream or sys.stdout
        self.closed = False
        self.engines: dict[str, str] = {}  # node -> the pool engine building it

    def write(self, data: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.stream.write(json.dumps(data, sort_keys=False) + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away: keep building
            self.closed = True

    def on_event(self, event) -> None:
        row = {"event": event.kind.value, "node": event.node,
               "label": self.labels.get(event.node, event.node)}  # fmt: skip
        if event.node in self.engines:
            row["engine"] = self.engines[event.node]
        if event.error is not None:
            row["error"] = str(event.error)
        self.write(row)

    def on_engine(self, node: str, engine: str) -> None:
        """``node`` was sent to the pool engine ``engine`` (again, after a failover)."""
        self.engines[node] = engine
        self.write({"event": "engine", "node": node, "engine": engine})

    def on_line(self, node: str, line: str) -> None:
        pass  # logs go to the cache (`chutes-build logs`), not to the event stream

    def __enter__(self) -> JsonProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class LiveProgress:
    """A live table: each node's state, elapsed time and last log line."""

    def __init__(self, labels: dict[str, str], console) -> None:
        self.labels, self.console = labels, console
        self.state: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.last: dict[str, str] = {}
        self.engines: dict[str, str] = {}  # node -> the pool engine building it
        self.live = None

    def on_event(self, event) -> None:
        kind = event.kind.value
        self.state[event.node] = kind
        now = time.monotonic()
        if kind == "running":
            self.started[event.node] = now
        elif event.node in self.started:
            self.ended[event.node] = now

    def on_engine(self, node: str, engine: str) -> None:
        self.engines[node] = engine

    def on_line(self, node: str, line: str) -> None:
        if line.strip():
            self.last[node] = line.strip()

    def _elapsed(self, node: str) -> str:
        if node not in self.started:
            return ""
        return f"{self.ended.get(node, time.monotonic()) - self.started[node]:.1f}s"

    def _label(self, node: str) -> str:
        """The node's label, with the pool engine building it when there is one."""
        label = self.labels.get(node, node)
        return f"{label} @ {self.engines[node]}" if node in self.engines else label

    def __rich_console__(self, console, options):
        yield self.table(options.max_width)

    def table(self, width: int):
        """The live table laid out for ``width`` columns: at 80 a node's label folds at
        its spaces and the last line is cut at its end with an ellipsis (its start says
        what the step does), never in the middle of a value."""
        from rich.markup import escape
        from rich.table import Column, Table

        labels = [self._label(n) for n in self.state] or ["node"]
        node = max(16, min(max(len(label) for label in labels) + 2, (width - 22) * 2 // 5))
        word = max(len(w) for label in labels for w in label.split() or [""])
        node = max(node, min(word, (width - 22) // 2))  # a chute name stays whole
        last = max(10, width - 9 - 7 - node - 6)
        table = Table(
            Column("state", width=9, no_wrap=True), Column("node", width=node, overflow="fold"),
            Column("time", width=7, no_wrap=True, justify="right"),
            Column("last line", width=last, no_wrap=True, overflow="ellipsis"),
            box=None, pad_edge=False,
        )  # fmt: skip
        cached = sum(1 for state in self.state.values() if state == "cached")
        order = sorted(
            (n for n, state in self.state.items() if state != "cached"),
            key=lambda n: (self.state[n] == "done", n),
        )
        if cached:
            table.add_row("[green]cached[/]", f"{cached} node(s) up to date", "", "")
        for node in order[:_MAX_ROWS]:
            state = self.state[node]
            last = self.last.get(node, "") if state in ("running", "failed") else ""
            table.add_row(
                f"[{_STYLE.get(state, '')}]{state}[/]", escape(self._label(node)),
                self._elapsed(node), escape(short_line(last)[:200]),
            )  # fmt: skip
        hidden = len(order) - _MAX_ROWS
        if hidden > 0:
            table.add_row("", f"... and {hidden} more", "", "")
        return table

    def __enter__(self) -> LiveProgress:
        from rich.live import Live

        self.live = Live(self, console=self.console, refresh_per_second=4, transient=False)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)


def make_progress(labels: dict[str, str], as_json: bool, console):
    """The JSON or the live display."""
    return JsonProgress(labels) if as_json else LiveProgress(labels, console)
