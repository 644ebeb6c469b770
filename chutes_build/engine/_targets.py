"""The two targets a run can have: this machine's Docker engine and the chutes platform.

Each implements :class:`~chutes_build.engine._run.Target`: ``open`` connects (the
Docker engine, or the platform with its credentials), ``lookup_keys`` names what the
shared cache should fetch, ``plan`` turns the graph into tasks, ``finish`` writes the
target's rows into the summary. The engine's ``run`` calls them in that order.
"""

from __future__ import annotations

import os
from typing import Any

from ..core import BuildError, ChutesBuildError, DeployError
from ..graph import logo_key
from ._chutes_target import ChutesOptions, lookup_keys, plan_chutes, schedule_chutes
from ._decide import probe_name
from ._local_target import (
    LocalOptions,
    has_gpu,
    known_runtimes,
    orphans,
    plan_local,
    remove_orphans,
    runtime_tags,
    workspace_containers,
)
from ._options import runtime_production
from ._orchestrate import BuildContext, Work, image_summary, plan_work
from ._outcomes import record_outcomes
from ._run import EngineAssigned, LogLine, Run, Warm

__all__ = [
    "ChutesTarget",
    "LocalTarget",
    "chutes_options",
    "first_error",
    "open_docker",
    "target_for",
]


def target_for(name: str):
    """The target ``--target`` names (``local`` or ``chutes``)."""
    if name == "chutes":
        return ChutesTarget()
    if name == "local":
        return LocalTarget()
    raise BuildError(f"unknown target {name!r}", fix="use --target local or --target chutes")


def first_error(group: BaseExceptionGroup) -> ChutesBuildError | None:
    """The first chutes-build error in a nursery's group (the one to report)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            exc = first_error(exc)
        if isinstance(exc, ChutesBuildError):
            return exc
    return None


# -- local ----------------------------------------------------------------------------------


async def open_docker(builder: str | None, for_up: bool, store=None):
    """The docker client; a probe's answer is kept in the store (it costs a real build),
    so a no-op run asks the engine only what it must."""
    from ._docker import DockerClient
    from ._docker_api import api_wanted, connect_docker
    from ._find import find_docker

    api = api_wanted(os.environ)
    if store is not None:
        known = store.load_struct("docker-client", probe_name(builder), list[str])
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
        store.save_struct("docker-client", probe_name(builder), [client.path, client.mode])
    return connect_docker(client, api=api)


def _engine_gone(exc: Exception) -> bool:
    return "daemon" in str(exc) or "Cannot connect" in str(exc)


class LocalTarget:
    """Images built by this machine's BuildKit; with ``deploy``, each changed chute runs
    as a container here (see ``_local_target``)."""

    name = "local"

    def __init__(self, docker=None) -> None:
        self.docker = docker  # a DockerEngine (e.g. testing.FakeDocker); None: find one
        self.ctx: BuildContext | None = None
        self.rows: list[dict[str, Any]] = []
        self.gpu = False

    async def open(self, run: Run) -> None:
        session, options = run.session, run.options
        docker = self.docker or await open_docker(options.builder, options.deploy, session.store)
        ctx = BuildContext(session.graph, run.store, docker, network=options.network,
                           rerun=options.rerun, no_cache=options.no_cache)  # fmt: skip
        ctx.emit_line = lambda node, line: run.emit(LogLine(node, line))
        from ._pool import open_configured

        ctx.pool = await open_configured(docker, session.workspace.config, options,
                                         dict(os.environ))  # fmt: skip
        if ctx.pool is not None:  # builds, per engine
            run.jobs += ctx.pool.jobs
            ctx.pool.on_assign = lambda node, engine: run.emit(EngineAssigned(node, engine))
        self.ctx = ctx

    def lookup_keys(self, run: Run) -> list[str]:
        return run.session.graph.keys()

    async def plan(self, run: Run) -> Work:
        """One image listing (and, for ``up``, one container listing beside it), then the
        work to do and, for ``up``, one row per chute."""
        import trio

        ctx, session, options = self.ctx, run.session, run.options
        graph, deploys, found = ctx.graph, ctx.graph.keys("deploy"), {}
        self.gpu = has_gpu(dict(os.environ))
        local = LocalOptions(
            cache_dir=session.store.location, gpu=self.gpu,
            port_base=session.workspace.config.port_base,
            health_timeout=float(os.environ.get("CHUTES_BUILD_HEALTH_TIMEOUT", "60")),
            runtime_production=runtime_production(options.runtime, session.workspace),
        )  # fmt: skip
        known = await known_runtimes(ctx, local, deploys) if options.deploy else {}

        async def containers() -> None:
            found["containers"] = await workspace_containers(ctx.docker, graph.root)

        try:
            async with trio.open_nursery() as nursery:
                if options.deploy:
                    nursery.start_soon(containers)
                found["work"] = await plan_work(ctx, graph.keys("image"), runtime_tags(known))
        except BaseExceptionGroup as group:
            error = first_error(group)
            if error is None:
                raise
            if _engine_gone(error):
                session.store.save_struct("docker-client", probe_name(options.builder), [])
                await open_docker(options.builder, options.deploy)  # says what is wrong
            raise error from None
        work = found["work"]
        if options.deploy:
            self.rows = await plan_local(ctx, local, work, deploys, known, found["containers"])
            if options.full:  # every chute file was compiled: prune what is gone
                gone = orphans(graph.root, graph, found["containers"])
                self.rows += await remove_orphans(ctx, gone, dry_run=options.dry_run)
        return work

    def dry_run(self, run: Run, work: Work) -> dict[str, Any]:
        """What a run would do: the nodes it would run, those it would reuse, and (``up``)
        what would happen to each chute. Nothing was built, started or recorded."""
        summary: dict[str, Any] = {
            "dry_run": True,
            "failed": [],
            "would_run": [{"node": work.node_id(k), "label": t.label}
                          for k, t in work.tasks.items()],  # fmt: skip
            "cached": [{"node": work.node_id(k), "label": label}
                       for k, label in work.cached.items()],  # fmt: skip
        }
        if run.options.deploy:
            for row in self.rows:
                if row["state"] is None:
                    row["state"] = "would deploy"
            summary["chutes"] = self.rows
        return summary

    async def finish(self, run: Run, work: Work, outcome, summary: dict[str, Any]) -> None:
        summary["images"] = image_summary(self.ctx, work)
        if self.ctx.pool is not None:
            self.ctx.pool.report(summary)
        if not run.options.deploy:
            return
        # needs-gpu, prebuilt: recorded as such, not dirty
        record_outcomes(run.session.store, self.rows, self.gpu, run.session.graph)
        failed = outcome.failed if outcome is not None else {}
        for row in self.rows:
            if row["state"] is None:  # its build or start failed, or a failure stopped the run
                row["state"] = "failed" if row["key"] in failed else "skipped"
        summary["chutes"] = self.rows


# -- chutes ---------------------------------------------------------------------------------


def chutes_options(workspace, options=None):
    """``(platform settings, ChutesOptions)`` from the environment, the workspace and a
    run's options (``None``: ``plan``'s defaults)."""
    from ..platform import load_settings

    settings = load_settings(os.environ)
    flags: dict[str, Any] = {}
    if options is not None:
        flags = {"accept_fee": options.accept_fee, "public": options.public,
                 "force": options.rerun}  # fmt: skip
    tag_from_key = workspace.config.tag_from_key
    return settings, ChutesOptions(settings.base_url, tag_from_key=tag_from_key,
                                   username=settings.username, **flags)  # fmt: skip


class ChutesTarget:
    """Images built by the platform's forge, chutes deployed by its API (see
    ``_chutes_target``); settings come from ``CHUTES_CONFIG_PATH``, ``CHUTES_API_URL``
    and ``CHUTES_API_KEY``, and nothing secret is printed."""

    name = "chutes"

    def __init__(self) -> None:
        self.copts: ChutesOptions | None = None
        self.client: Any = None
        self.planned: dict[str, list[dict[str, Any]]] = {}

    async def open(self, run: Run) -> None:
        from ..platform import ChutesClient

        options = run.options
        settings, self.copts = chutes_options(run.session.workspace, options)
        if options.dry_run:
            return  # nothing is sent: no credentials needed
        settings.require_credentials()
        self.client = await run.stack.enter_async_context(ChutesClient(settings))

    def lookup_keys(self, run: Run) -> list[str]:
        return lookup_keys(run.session.graph, self.copts)

    async def plan(self, run: Run) -> Work:
        graph = run.session.graph
        self.planned = plan_chutes(graph, run.store, self.copts)
        work = Work(graph)
        if run.options.dry_run:
            return work
        ctx = BuildContext(graph, run.store, docker=None)
        ctx.emit_line = lambda node, line: run.emit(LogLine(node, line))
        schedule_chutes(ctx, self.client, self.copts, work, self.planned)
        return work

    def dry_run(self, run: Run, work: Work) -> dict[str, Any]:
        """What ``up --target chutes`` would build and deploy; nothing is sent or recorded."""
        planned = self.planned
        would = [{"node": f"image:{r['key']}", "label": f"remote build {r['image']}"}
                 for r in planned["images"] if r["action"] != "cached"]  # fmt: skip
        would += [{"node": f"deploy:{r['key']}", "label": f"deploy {r['chute']}"}
                  for r in planned["chutes"] if r["action"] != "unchanged"]  # fmt: skip
        for rows in (planned["images"], planned["chutes"]):
            for row in rows:
                row["state"] = f"would {row['action']}" if row["action"] not in (
                    "cached", "unchanged") else row["action"]  # fmt: skip
        return {"dry_run": True, "failed": [], "would_run": would, "images": planned["images"],
                "chutes": planned["chutes"], "logos": planned["logos"],
                "api_url": self.copts.api_url}  # fmt: skip

    async def finish(self, run: Run, work: Work, outcome, summary: dict[str, Any]) -> None:
        planned = self.planned
        if run.options.warm:
            summary["failed"] += await _warm_changed(self.client, planned["chutes"], run.emit)
        failed = outcome.failed if outcome is not None else {}
        marks = (("logos", lambda r: logo_key(r["digest"])), ("images", lambda r: r["key"]),
                 ("chutes", lambda r: r["key"]))  # fmt: skip
        for rows, key_of in marks:
            for row in planned[rows]:
                if row.get("state") is None:
                    row["state"] = "failed" if key_of(row) in failed else "skipped"
        summary.update(images=planned["images"], chutes=planned["chutes"],
                       logos=planned["logos"], api_url=self.copts.api_url,
                       remote_cache=None)  # fmt: skip


async def _warm_changed(client, rows: list[dict[str, Any]], emit) -> list[dict]:
    """``--warm``: warm every chute this run created or updated, in parallel; note on each
    row when it was hot; return the failures (they make the run fail)."""
    from ..platform import warm_chutes

    changed = {row["chute"]: row for row in rows if row.get("state") in ("created", "updated")}

    def on_event(chute: str, event: dict) -> None:
        emit(Warm(f"warm:{changed[chute]['key']}", f"warm {chute}", chute, event))

    results = await warm_chutes(client, list(changed), on_event)
    failures = []
    for chute, result in results.items():
        changed[chute]["warm"] = result
        if result["state"] != "hot":
            failures.append({"node": f"warm:{changed[chute]['key']}", "label": f"warm {chute}",
                             "error": result["error"]})  # fmt: skip
    return failures
