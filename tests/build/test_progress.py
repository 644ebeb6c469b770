"""Progress displays: JSON lines for scripts, a live table for people."""

from __future__ import annotations

import io
import json

from rich.console import Console

from chutes_build.engine import make_progress
from chutes_build.engine._scheduler import Event, EventKind


def _events():
    yield Event(EventKind.CACHED, "image:a", 0.0)
    yield Event(EventKind.RUNNING, "layer:b", 0.0)
    yield Event(EventKind.FAILED, "layer:b", 1.0, error=RuntimeError("step 2 failed"))


def test_json_progress_writes_one_object_per_line() -> None:
    stream = io.StringIO()
    progress = make_progress({"layer:b": "2 layer(s) ..RUN x"}, True, None)
    progress.stream = stream
    for event in _events():
        progress.on_event(event)
    progress.on_line("layer:b", "a log line")  # logs stay out of the event stream
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["event"] for r in rows] == ["cached", "running", "failed"]
    assert rows[1]["label"] == "2 layer(s) ..RUN x" and rows[2]["error"] == "step 2 failed"


def test_json_progress_survives_a_closed_reader() -> None:
    stream = io.StringIO()
    progress = make_progress({}, True, None)
    progress.stream = stream
    stream.close()
    for event in _events():
        progress.on_event(event)  # no exception: the build goes on
    assert progress.closed


def test_live_progress_shows_the_failed_node_and_its_last_line() -> None:
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    progress = make_progress({"layer:b": "2 layer(s) ..RUN x"}, False, console)
    for event in _events():
        progress.on_event(event)
    progress.on_line("layer:b", "ERROR: process did not complete")
    console.print(progress)
    text = console.file.getvalue()
    assert "1 node(s) up to date" in text
    assert "failed" in text and "2 layer(s) ..RUN x" in text
    assert "ERROR: process did not complete" in text
