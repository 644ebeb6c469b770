"""``up --watch``: the first ``up``, then the dev loop on every batch of saves.

The loop itself is :class:`chutes_build.engine.WatchLoop`; this module gives it its
steps (compile the workspace, bring chute files up with the same pipeline as ``up``,
reload code with :func:`~chutes_build.engine.reload_code`), watches the workspace with
``watchfiles`` (the cache folder, ``.git``, ``__pycache__`` and virtual environments
left out; once the watcher runs, the workspace is compared once more, so a save made
during the first ``up`` counts) and renders each event: for people on stderr and in
tables, with ``--json`` one JSON object a line on stdout. Ctrl-C ends the loop with
exit status 0 and leaves the chutes running, as ``up`` does.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import msgspec
import typer
from rich.markup import escape

from ..core import ChutesBuildError
from ._common import add_network_hint, console, err_console, warnings_json

#: Milliseconds without a new change before a batch of saves is handled (an editor's
#: save is several writes), and the most a batch waits for its changes to settle.
STEP_MS, DEBOUNCE_MS = 30, 400
IDLE_MS = 500


def check_watch(target: str) -> None:
    if target != "local":
        raise typer.BadParameter(
            "--watch serves the chutes on this machine: use it with --target local",
            param_hint="'--watch'",
        )


def watch_up(paths: list[str] | None, options, as_json: bool, strict: bool) -> None:
    """Run ``up`` (``options``: its ``RunOptions``), then watch; returns (exit 0) on Ctrl-C."""
    import trio

    try:
        trio.run(_main, paths, options, as_json, strict)
    except KeyboardInterrupt:
        pass
    except BaseExceptionGroup as group:
        interrupted, rest = group.split(KeyboardInterrupt)
        if interrupted is None or rest is not None:
            raise
    _say(as_json, "stopped", "stopped watching; the chutes keep running "
         "(`chutes-build down` stops them)")  # fmt: skip


async def _main(paths: list[str] | None, options, as_json: bool, strict: bool) -> None:
    import trio

    from ..engine import WatchLoop, WatchSteps, reload_code
    from ._build import _network, _session

    session = _session(paths, strict)
    requested = options.network
    options = msgspec.structs.replace(options, network=_network(requested, session.workspace))
    full = msgspec.structs.replace(options, full=not paths and not session.graph.errors)
    first = await _up(session, full, requested, as_json)

    async def up(files: list[str]) -> dict[str, Any]:
        again = await trio.to_thread.run_sync(_session, files, strict)
        return await _up(again, options, requested, as_json)

    async def compile_all():
        return await trio.to_thread.run_sync(_compile, session.workspace, paths, strict)

    steps = WatchSteps(compile=compile_all, up=up, emit=lambda e: _render(e, as_json),
                       reload=lambda url: reload_code(url, {}))  # fmt: skip
    loop, ready = WatchLoop(steps), False
    loop.start(first, session.graph)
    async for changes in _saves(session.workspace.root, session.store.location):
        if not ready:  # the watcher runs: saves made since the first compile count too
            ready = True
            _say(as_json, "watching", f"watching {session.workspace.root} for changes "
                 "(Ctrl-C stops watching)")  # fmt: skip
        elif not changes:
            continue
        try:
            await loop.on_batch()
        except ChutesBuildError as exc:
            _error(as_json, str(exc))


def _compile(workspace, paths: list[str] | None, strict: bool):
    from ..graph import compile_workspace
    from ._graph import open_store

    store = open_store(workspace)
    with store:
        return compile_workspace(workspace, paths, store, strict)


async def _up(session, options, requested: str | None, as_json: bool) -> dict[str, Any]:
    """One ``up`` of ``session``'s chutes, rendered as ``up`` renders it."""
    from ..graph import record_run
    from ._build import _render, _workspace_lock
    from ._pipeline import run_pipeline

    with session.store, _workspace_lock(session.store, session.workspace):
        try:
            summary = await run_pipeline(session, options, as_json)
        finally:
            record_run(session.store, session.graph)
    summary["warnings"] = warnings_json(session.graph.warnings, session.graph.root)
    add_network_hint(summary["failed"], requested, session.workspace)
    _render(summary, as_json, True)
    return summary


def _saves(root: str, cache: str):
    """Batches of changed paths under ``root`` (the cache folder left out); an empty
    batch every ``IDLE_MS`` without changes, the first of which says the watcher runs."""
    from watchfiles import DefaultFilter, awatch

    ignore = [os.path.realpath(cache)]
    watch_filter = DefaultFilter(ignore_paths=ignore)
    return awatch(root, watch_filter=watch_filter, step=STEP_MS, debounce=DEBOUNCE_MS,
                  rust_timeout=IDLE_MS, yield_on_timeout=True)  # fmt: skip


def _say(as_json: bool, event: str, text: str) -> None:
    if as_json:
        sys.stdout.write(msgspec.json.encode({"event": event}).decode() + "\n")
        sys.stdout.flush()
    else:
        err_console.print(escape(text), soft_wrap=True)


def _error(as_json: bool, text: str) -> None:
    if as_json:
        sys.stdout.write(msgspec.json.encode({"event": "error", "text": text}).decode() + "\n")
        sys.stdout.flush()
    else:
        err_console.print(f"[red]error:[/red] {escape(text)}", soft_wrap=True)


def _render(event, as_json: bool) -> None:
    from ..engine import Broken, CodeReloaded, Failed, ReloadFailed

    if as_json:
        sys.stdout.write(msgspec.json.encode(event).decode() + "\n")
        sys.stdout.flush()
        return
    if isinstance(event, CodeReloaded):
        console.print(f"reloaded {escape(event.chute)} in its container "
                      f"({event.seconds * 1000:.0f} ms): {escape(event.url)}")  # fmt: skip
    elif isinstance(event, ReloadFailed):
        err_console.print(f"[red]error:[/red] {escape(event.text)}\n  {escape(event.chute)}: "
                          "the previous code keeps serving", soft_wrap=True)  # fmt: skip
    elif isinstance(event, Broken):
        err_console.print(f"[red]error:[/red] {escape(event.text)}\n  {escape(event.file)}: "
                          "its chutes keep serving their last good version",
                          soft_wrap=True)  # fmt: skip
    elif isinstance(event, Failed):
        chutes = ", ".join(event.chutes) or "the chutes"
        err_console.print(f"[red]failed:[/red] {escape(event.text)}\n  {escape(chutes)}: "
                          "the last good version keeps serving", soft_wrap=True)  # fmt: skip
