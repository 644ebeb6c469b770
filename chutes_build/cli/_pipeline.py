"""``build`` and ``up`` as the CLI runs them: call the engine's ``run`` with the target
``--target`` names and render what it yields (a live table for people, JSON lines for
scripts). The run itself, for every target, is ``engine.run``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from ._common import console

if TYPE_CHECKING:
    from ..engine import RunOptions, Session

__all__ = ["run_pipeline"]


class _Display:
    """The progress display, opened at the first node event (a dry run shows none)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json, self.progress = as_json, None

    def show(self, event) -> None:
        from ..engine import EngineAssigned, LogLine, NodeEvent, Warm, make_progress

        if isinstance(event, Warm):
            return self.warm(event)
        if self.progress is None:
            self.progress = make_progress({}, self.as_json, console).__enter__()
        if isinstance(event, NodeEvent):
            self.progress.labels[event.node] = event.label
            self.progress.on_event(event)
        elif isinstance(event, LogLine):
            self.progress.on_line(event.node, event.line)
        elif isinstance(event, EngineAssigned):
            self.progress.on_engine(event.node, event.engine)

    def warm(self, event) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps({"event": "warm", "node": event.node,
                                         "label": event.label, **event.status}) + "\n")  # fmt: skip
            sys.stdout.flush()
        elif event.status.get("status") == "hot":
            console.print(f"{escape(event.chute)} is hot")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)


async def run_pipeline(session: Session, options: RunOptions, as_json: bool) -> dict[str, Any]:
    """One run of ``options.target`` over ``session``; its summary (``--json``'s form)."""
    from ..engine import Finished, run, target_for

    display, summary = _Display(as_json), {}
    try:
        async with run(session, target_for(options.target), options) as events:
            async for event in events:
                if isinstance(event, Finished):
                    summary = event.summary
                else:
                    display.show(event)
    finally:
        display.close()
    if display.progress is not None and not as_json and options.target == "local":
        console.print()
    return summary
