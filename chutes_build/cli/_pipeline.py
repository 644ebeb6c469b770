"""The run pipeline of ``build`` and ``up`` as the CLI conducts it: the docker client,
the plan (one existence check, the local target's rows), the run and its summary.

Options arrive as one :class:`~chutes_build.engine.RunOptions`; ``--dry-run`` plans
through a store that drops writes and stops before anything runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core import BuildError, ChutesBuildError, DeployError
from ..workspace import Workspace
from ._common import console

if TYPE_CHECKING:
    from ..engine import RunOptions

__all__ = ["Session", "check_runtime", "docker_client", "first_error", "run_pipeline"]


@dataclass
class Session:
    """A compiled workspace: what every run reads."""

    workspace: Workspace
    store: Any
    graph: Any


def check_runtime(option: str | None) -> None:
    if option not in (None, "dev", "production"):
        raise BuildError(f"unknown runtime {option!r}", fix="use --runtime dev or production")


def _runtime_production(option: str | None, workspace: Workspace) -> bool:
    check_runtime(option)
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


async def _plan(ctx, session: Session, options: RunOptions):
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

    graph, deploys, found, deploy = ctx.graph, ctx.graph.keys("deploy"), {}, options.deploy
    local = LocalOptions(
        cache_dir=session.store.location,
        gpu=has_gpu(dict(os.environ)),
        port_base=session.workspace.config.port_base,
        health_timeout=float(os.environ.get("CHUTES_BUILD_HEALTH_TIMEOUT", "60")),
        runtime_production=_runtime_production(options.runtime, session.workspace),
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
            session.store.save_struct("docker-client", _probe_name(options.builder), [])
            await _docker(options.builder, deploy)  # says what is wrong and how to fix it
        raise error from None
    work, rows = found["work"], []
    if deploy:
        rows = await plan_local(ctx, local, work, deploys, known, found["containers"])
        if options.full:  # every chute file was compiled: prune what is gone
            gone = orphans(graph.root, graph, found["containers"])
            rows += await remove_orphans(ctx, gone, dry_run=options.dry_run)
    return work, rows, local.gpu


def _context(session: Session, docker, options: RunOptions):
    from ..cache import RecordingStore
    from ..engine import BuildContext, DryRunStore

    store = RecordingStore(DryRunStore(session.store) if options.dry_run else session.store)
    return BuildContext(session.graph, store, docker, network=options.network,
                        rerun=options.rerun, no_cache=options.no_cache)  # fmt: skip


async def _run(session: Session, options: RunOptions, as_json: bool) -> dict[str, Any]:
    from ..cache import pull, push
    from ..engine import image_summary, make_progress, open_configured, record_outcomes, run_work
    from ._chutes import cache_summary, shared_cache

    if options.target == "chutes":
        from ._chutes import run_chutes

        return await run_chutes(session, options, as_json)
    docker = await _docker(options.builder, options.deploy, session.store)
    ctx = _context(session, docker, options)
    ctx.pool = await open_configured(docker, session.workspace.config, options, dict(os.environ))
    jobs = options.jobs + (ctx.pool.jobs if ctx.pool is not None else 0)  # builds, per engine
    if options.dry_run:
        work, rows, _gpu = await _plan(ctx, session, options)
        return dry_run_summary(work, rows, options.deploy)
    async with shared_cache(session.workspace) as remote:
        pulled = await pull(remote, session.store, session.graph.keys())
        work, rows, gpu = await _plan(ctx, session, options)
        with make_progress(work.labels, as_json, console) as progress:
            ctx.emit_line = progress.on_line
            if ctx.pool is not None:
                ctx.pool.on_assign = progress.on_engine
            outcome = await run_work(work, jobs=jobs, keep_going=options.keep_going,
                                     on_event=progress.on_event)  # fmt: skip
        pushed = await push(remote, session.store, ctx.store.written)
    if not as_json:
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
    if options.deploy:
        record_outcomes(session.store, rows, gpu)  # needs-gpu, prebuilt: not dirty
        for row in rows:
            if row["state"] is None:  # its build or start failed, or a failure stopped the run
                failed_here = outcome is not None and f"deploy:{row['key']}" in outcome.failed
                row["state"] = "failed" if failed_here else "skipped"
        summary["chutes"] = rows
    return summary


def dry_run_summary(work, rows: list[dict[str, Any]], deploy: bool) -> dict[str, Any]:
    """What a run would do: the nodes it would run, those it would reuse, and (``up``)
    what would happen to each chute. Nothing was built, started or recorded."""
    summary: dict[str, Any] = {
        "dry_run": True,
        "failed": [],
        "would_run": [{"node": n, "label": work.labels[n]} for n in work.tasks],
        "cached": [{"node": n, "label": work.labels[n]} for n in work.cached],
    }
    if deploy:
        for row in rows:
            if row["state"] is None:
                row["state"] = "would deploy"
        summary["chutes"] = rows
    return summary


docker_client = _docker
first_error = _first_error
run_pipeline = _run
