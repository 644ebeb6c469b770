"""``build``, ``up`` and ``down``: the graph on BuildKit and the local target."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import typer
from rich.markup import escape

from ..core import BuildError, ChutesBuildError, DeployError
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
RUNTIME = typer.Option(
    None,
    "--runtime",
    help="The local runtime layer: dev, or production (adds cryptography, substrate-interface "
    "and graval when available; default: the workspace's `runtime-production`).",
)


@dataclass
class _Session:
    workspace: Workspace
    store: Any
    graph: Any


def _session(paths: list[str] | None, strict: bool = False) -> _Session:
    from ..graph import compile_workspace

    workspace = find_workspace(paths[0] if paths else None)
    store = open_store(workspace)
    graph = compile_workspace(workspace, paths, store, strict)
    report_warnings(graph.warnings)
    for _rel, error in graph.errors:
        err_console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
    return _Session(workspace, store, graph)


def _network(option: str | None, workspace: Workspace) -> str | None:
    value = option or os.environ.get("CHUTES_BUILD_NETWORK") or workspace.config.network
    if value in (None, "", "default"):
        return None
    if value not in ("none", "host"):
        raise BuildError(f"unknown build network {value!r}", fix="use none, host or default")
    return value


def _check_runtime(option: str | None) -> None:
    if option not in (None, "dev", "production"):
        raise BuildError(f"unknown runtime {option!r}", fix="use --runtime dev or production")


def _runtime_production(option: str | None, workspace: Workspace) -> bool:
    _check_runtime(option)
    return workspace.config.runtime_production if option is None else option == "production"


def _probe_name(builder: str | None) -> str:
    from ..cache import blob_digest

    seen = f"{os.environ.get('CHUTES_BUILD_DOCKER')}|{builder}|{os.environ.get('PATH')}"
    return blob_digest(seen.encode())


async def _docker(builder: str | None, for_up: bool, store=None):
    """The docker client; a probe's answer is kept in the store (it costs a real build),
    so a no-op run asks the engine only what it must."""
    from ..engine import DockerClient, api_wanted, connect_docker, find_docker

    api = api_wanted(os.environ)
    if store is not None:
        known = store.load_struct("docker-client", _probe_name(builder), list[str])
        if known and os.access(known[0], os.X_OK):
            return connect_docker(DockerClient(known[0], known[1], builder), api=api)
    try:
        client = await find_docker(os.environ.get("CHUTES_BUILD_DOCKER"), builder=builder)
    except BuildError as exc:
        if not for_up or "does not answer" not in exc.message:
            raise
        raise DeployError(
            f"the local target needs a Docker engine: {exc.message}",
            fix="start one with scripts/docker-up (it installs Debian's docker.io when "
            "missing); `chutes-build run FILE.py:CHUTE --dev` serves a chute without one",
        ) from None
    if store is not None:
        store.save_struct("docker-client", _probe_name(builder), [client.path, client.mode])
    return connect_docker(client, api=api)


def _first_error(group: BaseExceptionGroup) -> ChutesBuildError | None:
    """The first chutes-build error in a nursery's group (the one to report)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            exc = _first_error(exc)
        if isinstance(exc, ChutesBuildError):
            return exc
    return None


def _engine_gone(exc: Exception) -> bool:
    return "daemon" in str(exc) or "Cannot connect" in str(exc)


@contextlib.contextmanager
def _workspace_lock(store, workspace: Workspace):
    """One ``up``/``down`` at a time per workspace (``flock`` on a file in the cache)."""
    from ..cache import scope_id

    folder = os.path.join(store.location, "locks")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"up-{scope_id(workspace.root)}.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            err_console.print("another `chutes-build up` runs on this workspace; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


async def _plan(ctx, session: _Session, opts: dict[str, Any], deploy: bool):
    """One ``docker image ls`` (and, for ``up``, one ``docker ps`` beside it), then the
    work to do and, for ``up``, one row per chute."""
    import trio

    from ..engine import (
        LocalOptions,
        has_gpu,
        known_runtimes,
        orphans,
        plan_local,
        plan_work,
        remove_orphans,
        runtime_tags,
        workspace_containers,
    )

    graph, deploys, found = ctx.graph, ctx.graph.keys("deploy"), {}
    local = LocalOptions(
        cache_dir=session.store.location,
        gpu=has_gpu(dict(os.environ)),
        port_base=session.workspace.config.port_base,
        health_timeout=float(os.environ.get("CHUTES_BUILD_HEALTH_TIMEOUT", "60")),
        runtime_production=_runtime_production(opts.get("runtime"), session.workspace),
    )
    known = await known_runtimes(ctx, local, deploys) if deploy else {}

    async def containers() -> None:
        found["containers"] = await workspace_containers(ctx.docker, graph.root)

    try:
        async with trio.open_nursery() as nursery:
            if deploy:
                nursery.start_soon(containers)
            found["work"] = await plan_work(ctx, graph.keys("image"), runtime_tags(known))
    except BaseExceptionGroup as group:
        error = _first_error(group)
        if error is None:
            raise
        if _engine_gone(error):
            session.store.save_struct("docker-client", _probe_name(opts["builder"]), [])
            await _docker(opts["builder"], deploy)  # says what is wrong and how to fix it
        raise error from None
    work, rows = found["work"], []
    if deploy:
        rows = await plan_local(ctx, local, work, deploys, known, found["containers"])
        if opts.get("full"):  # every chute file was compiled: prune what is gone
            rows += await remove_orphans(ctx, orphans(graph.root, graph, found["containers"]))
    opts["gpu"] = local.gpu
    return work, rows


async def _run(session: _Session, opts: dict[str, Any], deploy: bool) -> dict[str, Any]:
    from ..cache import RecordingStore, pull, push
    from ..engine import BuildContext, image_summary, make_progress, open_configured, run_work
    from ._chutes import cache_summary, shared_cache

    if opts.get("target") == "chutes":
        from ._chutes import run_chutes

        return await run_chutes(session, opts)
    docker = await _docker(opts["builder"], deploy, session.store)
    store = RecordingStore(session.store)
    ctx = BuildContext(session.graph, store, docker, network=opts["network"])
    ctx.pool = await open_configured(docker, session.workspace.config, opts, dict(os.environ))
    jobs = opts["jobs"] + (ctx.pool.jobs if ctx.pool is not None else 0)  # builds, per engine
    async with shared_cache(session.workspace) as remote:
        pulled = await pull(remote, session.store, session.graph.keys())
        work, rows = await _plan(ctx, session, opts, deploy)
        with make_progress(work.labels, opts["json"], console) as progress:
            ctx.emit_line = progress.on_line
            if ctx.pool is not None:
                ctx.pool.on_assign = progress.on_engine
            outcome = await run_work(work, jobs=jobs, keep_going=opts["keep_going"],
                                     on_event=progress.on_event)  # fmt: skip
        pushed = await push(remote, session.store, store.written)
    if not opts["json"]:
        console.print()
    failed = [
        {"node": node, "label": work.labels.get(node, node), "error": str(error)}
        for node, error in (outcome.failed.items() if outcome is not None else ())
    ]
    summary: dict[str, Any] = {"failed": failed, "images": image_summary(ctx, work)}
    if remote is not None:
        summary["remote_cache"] = cache_summary(remote, pulled, pushed)
    if ctx.pool is not None:
        ctx.pool.report(summary)
    if deploy:
        from ..engine import record_outcomes

        record_outcomes(session.store, rows, opts["gpu"])  # needs-gpu, prebuilt: not dirty
        for row in rows:
            if row["state"] is None:  # its build or start failed, or a failure stopped the run
                failed_here = outcome is not None and f"deploy:{row['key']}" in outcome.failed
                row["state"] = "failed" if failed_here else "skipped"
        summary["chutes"] = rows
    return summary


def _execute(paths: list[str] | None, opts: dict[str, Any], deploy: bool) -> None:
    import trio

    from ..graph import record_run

    session = _session(paths, opts.get("strict", False))
    opts["full"] = not paths and not session.graph.errors
    requested = opts.get("network")
    opts["network"] = _network(requested, session.workspace)
    lock = _workspace_lock(session.store, session.workspace) if deploy else contextlib.nullcontext()
    with session.store, lock:
        try:
            summary = trio.run(_run, session, opts, deploy)
        except BaseExceptionGroup as group:
            interrupted, rest = group.split(KeyboardInterrupt)
            if interrupted is None:
                raise
            raise KeyboardInterrupt from rest
        finally:
            record_run(session.store, session.graph)
    summary["warnings"] = warnings_json(session.graph.warnings, session.graph.root)
    if opts.get("target") != "chutes":
        add_network_hint(summary["failed"], requested, session.workspace)
    _render(summary, opts["json"], deploy, opts.get("target"))
    if summary["failed"] or session.graph.errors:
        raise typer.Exit(1)


def _render(summary: dict[str, Any], as_json: bool, deploy: bool, target=None) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"summary": summary}) + "\n")
        return
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


def build(
    paths: list[str] = PATHS, jobs: int = JOBS, keep_going: bool = KEEP_GOING,
    as_json: bool = JSON, network: str = NETWORK, builder: str = BUILDER, strict: bool = STRICT,
    registry: str = REGISTRY, builders: str = BUILDERS,
) -> None:  # fmt: skip
    """Build the images of the workspace's chutes: only what changed, shared layers once."""
    opts = {"jobs": jobs, "keep_going": keep_going, "json": as_json, "network": network,
            "builder": builder, "strict": strict, "registry": registry,
            "builders": builders}  # fmt: skip
    _execute(paths, opts, deploy=False)


def up(
    paths: list[str] = PATHS, target: str = TARGET, jobs: int = JOBS,
    keep_going: bool = KEEP_GOING, as_json: bool = JSON, network: str = NETWORK,
    builder: str = BUILDER, accept_fee: bool = ACCEPT_FEE, public: bool = PUBLIC,
    runtime: str = RUNTIME, strict: bool = STRICT, warm: bool = WARM,
    registry: str = REGISTRY, builders: str = BUILDERS,
) -> None:  # fmt: skip
    """Build what changed and deploy the chutes whose inputs changed (here, or on chutes.ai)."""
    _check_target(target, ("local", "chutes"))
    if warm:
        _check_target(target, ("chutes",))
    _check_runtime(runtime)
    opts = {"jobs": jobs, "keep_going": keep_going, "json": as_json, "network": network,
            "builder": builder, "target": target, "accept_fee": accept_fee,
            "public": public, "runtime": runtime, "strict": strict,
            "warm": warm, "registry": registry, "builders": builders}  # fmt: skip
    _execute(paths, opts, deploy=True)


def _check_target(target: str, allowed: tuple[str, ...] = ("local",)) -> None:
    if target not in allowed:
        raise DeployError(
            f"unknown target {target!r} for this command",
            fix=f"use --target {' or --target '.join(allowed)}",
        )


def down(paths: list[str] = PATHS, target: str = TARGET, as_json: bool = JSON) -> None:
    """Stop and remove the workspace's local chute containers (only PATHS' chutes if given)."""
    import trio

    from ..engine import down_local

    _check_target(target)
    session = _session(paths) if paths else None
    workspace = session.workspace if session else find_workspace(None)
    names = [a["chute"] for a in session.graph.nodes("deploy")] if session else None

    async def run():
        return await down_local(await _docker(None, True, store), workspace.root, names)

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
