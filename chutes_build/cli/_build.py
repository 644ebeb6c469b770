"""``build``, ``up`` and ``down``: the graph on BuildKit and the local target."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from .. import noop
from ..core import BuildError, DeployError
from ..workspace import Workspace, find_workspace
from ._common import (
    JSON,
    PATHS,
    STRICT,
    Col,
    add_network_hint,
    console,
    err_console,
    report_warnings,
    table,
    warnings_json,
)
from ._graph import open_store, print_json
from ._pipeline import run_pipeline

if TYPE_CHECKING:
    from ..engine import RunOptions, Session

JOBS = typer.Option(4, "--jobs", "-j", help="Builds (and container starts) run at once.")
KEEP_GOING = typer.Option(
    False, "--keep-going", "-k", help="Build what does not depend on a failure."
)
NETWORK = typer.Option(
    None,
    "--network",
    help="Build network: none, host or default "
    "(default: $CHUTES_BUILD_NETWORK, then the workspace's `network`).",
)
BUILDER = typer.Option(None, "--builder", help="A buildx builder (remote drivers included).")
REGISTRY = typer.Option(
    None, "--registry", help="HOST:PORT/PREFIX: the registry a pool of engines shares "
    "(default: $CHUTES_BUILD_REGISTRY, then the workspace's `registry`).",
)
BUILDERS = typer.Option(
    None, "--builders", help="Comma-separated engines of the pool: unix://, tcp://, ssh:// "
    "URLs, docker contexts, buildx:NAME, local (default: $CHUTES_BUILD_BUILDERS, then the "
    "workspace's `builders`); with a pool, --jobs is per engine.",
)
TARGET = typer.Option(
    "local", "--target", help="Where to deploy: local (containers here) or chutes (the platform)."
)
ACCEPT_FEE = typer.Option(
    False, "--accept-fee", help="Accept the platform's deployment fee for new chutes."
)
PUBLIC = typer.Option(False, "--public", help="Make the images and chutes public (chutes).")
WARM = typer.Option(
    False, "--warm", help="Then warm every changed chute, in parallel, until it is hot (chutes)."
)
DRY_RUN = typer.Option(
    False, "--dry-run", help="Plan and print what would run; build, start and record nothing."
)
FORCE = typer.Option(
    False, "--force", help="Rebuild and restart the selected chutes even when cached (chutes: "
    "check each image with the platform again).",
)
NO_CACHE = typer.Option(
    False, "--no-cache", help="Build the selected chutes without BuildKit's cache and without "
    "cached results (implies --force).",
)
WATCH = typer.Option(
    False, "--watch", help="Then watch the workspace: reload a saved chute's code in its "
    "container, rebuild and replace a chute whose image changed (local target; Ctrl-C stops).",
)
RUNTIME = typer.Option(
    None,
    "--runtime",
    help="The local runtime layer: dev, or production (adds cryptography, substrate-interface "
    "and graval when available; default: the workspace's `runtime-production`).",
)


def _session(paths: list[str] | None, strict: bool = False) -> Session:
    from ..graph import compile_workspace

    workspace = find_workspace(paths[0] if paths else None)
    store = open_store(workspace)
    graph = compile_workspace(workspace, paths, store, strict)
    report_warnings(graph.warnings)
    for _rel, error in graph.errors:
        err_console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
    from ..engine import Session

    return Session(workspace, store, graph)


def _network(option: str | None, workspace: Workspace) -> str | None:
    value = option or os.environ.get("CHUTES_BUILD_NETWORK") or workspace.config.network
    if value in (None, "", "default"):
        return None
    if value not in ("none", "host"):
        raise BuildError(f"unknown build network {value!r}", fix="use none, host or default")
    return value


@contextlib.contextmanager
def _workspace_lock(store, workspace: Workspace):
    """One ``up``/``down`` at a time per workspace (``flock`` on a file in the cache,
    whose path it yields)."""
    from ..cache import scope_id

    folder = os.path.join(store.location, "locks")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"up-{scope_id(workspace.root)}.lock")
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err_console.print("another `chutes-build up` runs on this workspace; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield path


def _execute(paths: list[str] | None, options: RunOptions, as_json: bool, strict: bool) -> None:
    import msgspec

    from ..engine import settled_run
    from ..graph import record_run

    session = _session(paths, strict)
    requested = options.network
    options = msgspec.structs.replace(
        options, full=not paths and not session.graph.errors,
        network=_network(requested, session.workspace),
    )  # fmt: skip
    deploy = options.deploy and not options.dry_run
    lock = _workspace_lock(session.store, session.workspace) if deploy else contextlib.nullcontext()
    with session.store, lock as lock_path:
        try:
            settled = settled_run(session, options, os.environ)  # nothing to do: no engine run
            if settled is not None:
                noop.run_settled(lock_path)  # the console script may record the run
                summary = settled.summary
                _show_cached(settled.cached, as_json)
            else:
                noop.run_unsettled()
                summary = _full_run(session, options, as_json)
        finally:
            if not options.dry_run:
                record_run(session.store, session.graph)
    summary["warnings"] = warnings_json(session.graph.warnings, session.graph.root)
    if options.target != "chutes":
        add_network_hint(summary["failed"], requested, session.workspace)
    _render(summary, as_json, options.deploy, options.target)
    if summary["failed"] or session.graph.errors:
        raise typer.Exit(1)


def _full_run(session: Session, options: RunOptions, as_json: bool) -> dict[str, Any]:
    import trio

    try:
        return trio.run(run_pipeline, session, options, as_json)
    except BaseExceptionGroup as group:
        interrupted, rest = group.split(KeyboardInterrupt)
        if interrupted is None:
            raise
        raise KeyboardInterrupt from rest


def _show_cached(cached: list[tuple[str, str]], as_json: bool) -> None:
    """What the progress display of a run that ran nothing shows: its cached nodes."""
    if not cached:
        return
    from ..engine import CachedEvent, make_progress

    progress = make_progress(dict(cached), as_json, console)
    for node, _label in cached:
        progress.on_event(CachedEvent(node))
    if not as_json:
        console.print(progress)  # as the live view's last frame and the line after it


def _render(summary: dict[str, Any], as_json: bool, deploy: bool, target=None) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"summary": summary}) + "\n")
        return
    if summary.get("dry_run"):
        return _render_dry_run(summary, deploy)
    if target == "chutes":
        from ._chutes import render_chutes

        return render_chutes(summary)
    for failure in summary["failed"]:
        err_console.print(f"[red]failed:[/red] {escape(failure['label'])}\n"
                          f"{escape(failure['error'])}", soft_wrap=True)  # fmt: skip
    images = table("image", Col("status", fold=False), "reference", "chutes")
    for row in summary["images"]:
        images.add_row(escape(row["image"]), row["status"], escape(row["ref"]),
                      escape(", ".join(row["chutes"])))  # fmt: skip
    console.print(images)
    if deploy:
        chutes = table("chute", Col("state", fold=False), "url / note")
        for row in summary["chutes"]:
            chutes.add_row(escape(row["chute"]), str(row["state"] or "not started"),
                           escape(row.get("url") or row.get("note", "")))  # fmt: skip
        console.print(chutes)


def _render_dry_run(summary: dict[str, Any], deploy: bool) -> None:
    would, cached = summary["would_run"], summary.get("cached", [])
    console.print(f"dry run: {len(would)} node(s) would run, {len(cached)} are up to date; "
                  "nothing was built, started or recorded")  # fmt: skip
    for node in would:
        console.print(f"  would run  {escape(node['label'])}")
    if deploy:
        chutes = table("chute", Col("state", fold=False), "url / note")
        for row in summary["chutes"]:
            chutes.add_row(escape(row["chute"]), str(row["state"]),
                           escape(row.get("url") or row.get("note") or row.get("reason", "")))
        console.print(chutes)


def build(
    paths: list[str] = PATHS, jobs: int = JOBS, keep_going: bool = KEEP_GOING,
    as_json: bool = JSON, network: str = NETWORK, builder: str = BUILDER, strict: bool = STRICT,
    registry: str = REGISTRY, builders: str = BUILDERS, dry_run: bool = DRY_RUN,
    force: bool = FORCE, no_cache: bool = NO_CACHE,
) -> None:  # fmt: skip
    """Build the images of the workspace's chutes: only what changed, shared layers once."""
    from ..engine import RunOptions

    options = RunOptions(deploy=False, jobs=jobs, keep_going=keep_going, network=network,
                         builder=builder, registry=registry, builders=builders,
                         dry_run=dry_run, force=force, no_cache=no_cache)  # fmt: skip
    _execute(paths, options, as_json, strict)


def up(
    paths: list[str] = PATHS, target: str = TARGET, jobs: int = JOBS,
    keep_going: bool = KEEP_GOING, as_json: bool = JSON, network: str = NETWORK,
    builder: str = BUILDER, accept_fee: bool = ACCEPT_FEE, public: bool = PUBLIC,
    runtime: str = RUNTIME, strict: bool = STRICT, warm: bool = WARM,
    registry: str = REGISTRY, builders: str = BUILDERS, dry_run: bool = DRY_RUN,
    force: bool = FORCE, no_cache: bool = NO_CACHE, watch: bool = WATCH,
) -> None:  # fmt: skip
    """Build what changed and deploy the chutes whose inputs changed (here, or on chutes.ai)."""
    _check_target(target, ("local", "chutes"))
    if warm:
        _check_target(target, ("chutes",))
    from ..engine import RunOptions, check_runtime

    check_runtime(runtime)

    options = RunOptions(deploy=True, target=target, jobs=jobs, keep_going=keep_going,
                         network=network, builder=builder, registry=registry,
                         builders=builders, accept_fee=accept_fee, public=public,
                         runtime=runtime, warm=warm, dry_run=dry_run, force=force,
                         no_cache=no_cache)  # fmt: skip
    if watch:
        from ._watch import check_watch, watch_up

        noop.run_unsettled()
        check_watch(target)
        return watch_up(paths, options, as_json, strict)
    _execute(paths, options, as_json, strict)


def _check_target(target: str, allowed: tuple[str, ...] = ("local",)) -> None:
    if target not in allowed:
        raise DeployError(
            f"unknown target {target!r} for this command",
            fix=f"use --target {' or --target '.join(allowed)}",
        )


def down(paths: list[str] = PATHS, target: str = TARGET, as_json: bool = JSON) -> None:
    """Stop and remove the workspace's local chute containers (only PATHS' chutes if given)."""
    import trio

    from ..engine import down_local, open_docker

    _check_target(target)
    session = _session(paths) if paths else None
    workspace = session.workspace if session else find_workspace(None)
    names = [a.chute for a in session.graph.nodes("deploy")] if session else None

    async def run():
        return await down_local(await open_docker(None, True, store), workspace.root, names)

    store = open_store(workspace)
    with store, _workspace_lock(store, workspace):
        rows = trio.run(run)
    if as_json:
        print_json({"summary": {"removed": rows}})
        return
    for row in rows:
        console.print(f"removed {escape(row['container'])}")
    if not rows:
        console.print("no chute containers were running")


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.command("up")(up)
    app.command("down")(down)
