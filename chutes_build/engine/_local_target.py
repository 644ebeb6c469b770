"""The local deploy target: each changed chute runs as a container on this machine.

A chute runs from its **runtime image**: the chute's image plus the runtime layer (the
runtime stage copied onto it, see ``_runtime_stage``), cached like any layer under
``chutes-build/runtime:<key>``.
The chute's code is not baked in: the workspace is mounted read-only at
``/workspace``, so a code-only edit changes the deploy key, replaces that one
container (the old one serves until the new one is healthy, see ``_swap``) and builds
nothing. Containers use ``--network=host`` and a stable port
per chute (``port_base`` plus an assignment kept in the store, so adding a chute
never moves the others; a port something else holds moves, see ``_ports``).
Labels carry the workspace, the chute's slot and name, the deploy key, the runtime key
and the port (see ``_local_ids``); a container whose labels match and which is running
is left alone. A started container counts as healthy only when ``GET /_ping`` on its
port answers with its chute's name and the deploy key it was started with
(``$CHUTES_BUILD_DEPLOY_KEY``): another workspace's chute on that port is not it.

Template chutes (vLLM, SGLang, embeddings, diffusion, TEI) are built but reported
``needs-gpu`` on a machine without a GPU; with one (see :func:`has_gpu`) they run with
``--gpus all``. With ``runtime_production`` the runtime layer also carries production
mode's packages (its key covers the wheel set, so the switch rebuilds only that layer;
the container still starts the server with ``--dev``). A chute with a prebuilt image reference
cannot be built or run here and is reported ``prebuilt``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..cache import ActionResult, scope_id
from ..cache import faults as _faults
from ..core import DeployError
from ..graph import runtime_key, runtime_result_key
from ._containers import container_log, list_containers, remove_containers, run_container, wait_http
from ._decide import (
    RUNTIME_REPO,
    chute_row,
    container_matches,
    held_ports,
    orphans,
    recorded,
    runtime_keys,
    slot_of,
)
from ._docker import existing_images
from ._gpus import GPU_TEMPLATES, container_gpus, has_gpu, nvidia_devices
from ._local_ids import (
    L_CHUTE,
    L_DEPLOY,
    L_PORT,
    L_RUNTIME,
    L_SLOT,
    L_WORKSPACE,
    LABEL_KEYS,
    chute_named,
    container_name,
    containers_by_slot,
    identity_mismatch,
)
from ._orchestrate import BuildContext, Work, build_logged, top_ref
from ._ports import assign_ports
from ._runtime_layer import (
    RUNTIME_PREFIX,
    probe_python,
    runtime_wheels,
    wheel_digests,
)
from ._runtime_layer import runtime_key as resolved_runtime_key
from ._runtime_pins import sdk_packages
from ._runtime_stage import runtime_request, runtime_stage
from ._swap import fresh_connections, replace_container

if TYPE_CHECKING:
    from ..graph import DeployNode

__all__ = [
    "GPU_TEMPLATES",
    "LocalOptions",
    "container_gpus",
    "container_name",
    "down_local",
    "has_gpu",
    "known_runtimes",
    "nvidia_devices",
    "orphans",
    "plan_local",
    "remove_orphans",
    "runtime_tags",
    "workspace_containers",
]

MOUNT = "/workspace"
HEALTH_PATH = "/_ping"
DEPLOY_ENV = "CHUTES_BUILD_DEPLOY_KEY"
LOG_LINES, LOG_SHOWN = 200, 30  # a failed start's log: read for the fix, shown


@dataclass
class LocalOptions:
    """Settings of the local target, read at the entry point."""

    cache_dir: str
    port_base: int = 18000
    gpu: bool = False
    health_timeout: float = 60.0
    runtime_production: bool = False


@dataclass
class _Chute:
    key: str
    attrs: DeployNode
    name: str
    port: int
    row: dict[str, Any]
    old: list = field(default_factory=list)  # this chute's containers (one or none, normally)

    def expect(self, response) -> str | None:
        return identity_mismatch(response, self.attrs.chute, self.key)


class _Planner:
    def __init__(self, ctx: BuildContext, opts: LocalOptions, work: Work) -> None:
        self.ctx, self.opts, self.work = ctx, opts, work
        self.runtimes: dict[str, str] = {}  # image key -> runtime key, once known

    def runtime_task(self, image: str, known: str | None) -> None:
        ctx, opts, work = self.ctx, self.opts, self.work
        rkey, top = runtime_key(image), top_ref(ctx.graph, image)
        node, label = f"runtime:{rkey}", f"runtime layer {ctx.graph.node(image).label}"
        record = runtime_result_key(rkey, opts.runtime_production)
        cached = known and f"{RUNTIME_REPO}:{known}" in work.existing
        if cached and not ctx.rerun and recorded(ctx.store, known):
            self.runtimes[image] = known
            work.skip(rkey, label)
            if not recorded(ctx.store, record):  # so `plan` shows it cached
                _record_runtime(ctx, record, known, work.existing[f"{RUNTIME_REPO}:{known}"])
            return

        async def run():
            if ctx.pool is not None:  # built by an engine of the pool: bring it here
                await ctx.pool.pull_local(top, work.existing[top])
            python = await probe_python(ctx.docker, top, work.existing[top], ctx.store)
            sdk = sdk_packages(ctx.graph, image)
            wheels = await runtime_wheels(opts.cache_dir, python, opts.runtime_production, sdk)
            key = resolved_runtime_key(image, python, wheel_digests(wheels))
            tag = f"{RUNTIME_REPO}:{key}"
            self.runtimes[image] = key
            if not ctx.rerun and await _reusable(ctx, key, tag):  # else: built again
                found = await existing_images(ctx.docker, [tag])
                return key, found.get(tag, ""), None, None
            stage = await runtime_stage(ctx, node, top, python, wheels)
            request = replace(runtime_request(top, stage, tag, ctx.network),
                              no_cache=ctx.no_cache)  # fmt: skip
            result, digest, started = await build_logged(ctx, node, key, request)
            _faults.hit("build.finished")
            if ctx.pool is not None:
                await ctx.pool.push(tag)
            return key, result.image_id, digest, started

        def commit(value) -> None:
            key, image_id, digest, started = value
            if digest is not None:  # built in this run
                outputs = {"tag": f"{RUNTIME_REPO}:{key}", "image_id": image_id}
                ctx.store.put_action(key, ActionResult(
                    kind="runtime", outputs=outputs, logs=(digest,), created=time.time(),
                    duration=time.time() - started))  # fmt: skip
            _record_runtime(ctx, record, key, image_id)

        work.add(rkey, label, run, commit)

    def deploy_task(self, chute: _Chute) -> None:
        ctx, work, image = self.ctx, self.work, chute.attrs.image
        old = chute.old[0] if chute.old else None

        async def run():
            runtime = self.runtimes[image]
            if old is not None and not ctx.rerun and _matches(chute, runtime):
                if recorded(ctx.store, chute.key):
                    chute.row["state"] = "unchanged"
                    return None
                if await _adopt(self.opts, chute):
                    return old.id
            _faults.hit("deploy.before-start")
            container = await replace_container(ctx.docker, chute.name, chute.old,
                                                lambda: _start(ctx, self.opts, chute, runtime))
            _faults.hit("deploy.started")
            chute.row["state"] = "restarted" if old is not None else "started"
            return container

        def commit(container) -> None:
            if container is not None:
                outputs = {"container": container, "url": chute.row["url"], "runtime":
                           self.runtimes[image]}  # fmt: skip
                ctx.store.put_action(chute.key, ActionResult(
                    kind="deploy-local", outputs=outputs, created=time.time()))  # fmt: skip

        work.add(chute.key, f"run {chute.attrs.chute}", run, commit)


def _record_runtime(ctx: BuildContext, record: str, key: str, image_id: str) -> None:
    """The runtime node's result: the runtime layer it resolved to (``plan`` reads it)."""
    outputs = {"tag": f"{RUNTIME_REPO}:{key}", "image_id": image_id, "runtime": key}
    ctx.store.put_action(record, ActionResult(kind="runtime-node", outputs=outputs,
                                              created=time.time()))  # fmt: skip


async def _reusable(ctx: BuildContext, key: str, tag: str) -> bool:
    """Whether the runtime layer ``key`` is here, or pulled from the pool's registry
    (another machine built it)."""
    if recorded(ctx.store, key) and (await existing_images(ctx.docker, [tag])):
        return True
    return ctx.pool is not None and ctx.store.has_action(key) and await ctx.pool.pull(tag)


def _matches(chute: _Chute, runtime: str | None) -> bool:
    """Whether the chute's one container runs what it should, where it should."""
    return len(chute.old) == 1 and container_matches(chute.old[0], chute.name, chute.key,
                                                     runtime, chute.port)  # fmt: skip


async def _adopt(opts: LocalOptions, chute: _Chute) -> bool:
    """A matching container whose start was never recorded (its ``up`` was killed after
    ``docker run``, issue 7) is kept when it answers its health check; else restarted."""
    try:
        await wait_http(
            chute.row["url"] + HEALTH_PATH, timeout=opts.health_timeout, expect=chute.expect
        )
    except DeployError:
        return False
    chute.row["state"] = "unchanged"
    return True


async def _start(ctx: BuildContext, opts: LocalOptions, chute: _Chute, runtime: str) -> str:
    attrs, root = chute.attrs, ctx.graph.root
    command = [f"{RUNTIME_PREFIX}/bin/python", "-m", "chutes_runtime",
               f"{MOUNT}/{attrs.file}:{attrs.attr}", "--dev", "--host", "127.0.0.1",
               "--port", str(chute.port), "--reuse-port"]  # fmt: skip
    labels = {L_WORKSPACE: scope_id(root), L_SLOT: slot_of(attrs), L_CHUTE: attrs.chute,
              L_DEPLOY: chute.key, L_RUNTIME: runtime, L_PORT: str(chute.port)}  # fmt: skip
    container = await run_container(
        ctx.docker, f"{RUNTIME_REPO}:{runtime}", name=chute.name, command=command,
        labels=labels, env={"PYTHONDONTWRITEBYTECODE": "1", DEPLOY_ENV: chute.key},
        mounts={root: MOUNT}, gpus=container_gpus(attrs, opts.gpu),
    )  # fmt: skip
    try:
        await wait_http(chute.row["url"] + HEALTH_PATH, timeout=opts.health_timeout,
                        alive=lambda: _running(ctx, chute.name), expect=chute.expect,
                        transport=fresh_connections())  # fmt: skip
    except DeployError as exc:
        # Its log goes into the message; the container goes, so the next `up` retries.
        log = await container_log(ctx.docker, chute.name, LOG_LINES)
        tail = "\n".join(f"  | {line}" for line in log.splitlines()[-LOG_SHOWN:])
        await remove_containers(ctx.docker, [chute.name])
        raise DeployError(
            f"chute {attrs.chute} (container {chute.name}) did not become healthy: "
            f"{exc.message}\n{tail}",
            fix=_unhealthy_fix(chute, f"{exc.message}\n{log}"),
        ) from None
    return container


def _unhealthy_fix(chute: _Chute, evidence: str) -> str:
    """The fix for a chute that never answered as itself, from the error and its log."""
    taken = ("the port is answered by", "not a chute", "address already in use")
    if any(text in evidence for text in taken):
        return (f"another server holds port {chute.port}: run `chutes-build up` again to move "
                "this chute to a free port, or set port-base in [tool.chutes-build] to a "
                "range no other workspace uses")  # fmt: skip
    attrs = chute.attrs
    return (f"see the log above; `chutes-build run {attrs.file}:{attrs.attr} --dev` "
            "runs it without an engine")  # fmt: skip


async def _running(ctx: BuildContext, name: str) -> bool:
    """Whether container ``name`` still runs: a chute that crashes at start-up then fails
    at once with its whole log rather than after the health timeout."""
    return await ctx.docker.container_running(name)


async def plan_local(
    ctx: BuildContext,
    opts: LocalOptions,
    work: Work,
    deploy_keys: list[str],
    known: dict[str, str | None],
    containers: list | None = None,
) -> list[dict[str, Any]]:
    """Add the runtime and container tasks of ``deploy_keys`` to ``work``; one row each.

    ``known`` is :func:`known_runtimes`'s answer; ``containers`` the workspace's
    containers (:func:`workspace_containers`), asked for here when not given."""
    graph, root = ctx.graph, ctx.graph.root
    if containers is None:
        containers = await workspace_containers(ctx.docker, root)
    nodes = {key: graph.node(key) for key in deploy_keys}
    by_slot = containers_by_slot(containers, {slot_of(a): a.chute for a in nodes.values()})
    held = held_ports(nodes.values(), by_slot)
    ports, moves = assign_ports(ctx.store, root, [a.slot for a in nodes.values()],
                                opts.port_base, held)  # fmt: skip
    planner, rows = _Planner(ctx, opts, work), []
    for key, attrs in nodes.items():
        chute = _Chute(key, attrs, container_name(root, slot_of(attrs)), ports[attrs.slot],
                       {}, by_slot.get(slot_of(attrs), []))  # fmt: skip
        if attrs.slot in moves:
            chute.row["note"] = moves[attrs.slot].note()
        rows.append(_plan_one(planner, chute, known))
    return rows


def _plan_one(planner: _Planner, chute: _Chute, known: dict[str, str | None]) -> dict:
    attrs, row = chute.attrs, chute.row
    row.update(chute_row(attrs, chute.port, planner.opts.gpu))
    if row["state"] is not None:  # prebuilt, needs-gpu: settled here without running
        return row
    image = attrs.image
    if image not in planner.runtimes and runtime_key(image) not in planner.work.tasks:
        planner.runtime_task(image, known.get(image))
    runtime = planner.runtimes.get(image)
    if (runtime is not None and not planner.ctx.rerun and _matches(chute, runtime)
            and recorded(planner.ctx.store, chute.key)):  # fmt: skip
        row["state"] = "unchanged"
    else:
        planner.deploy_task(chute)
    return row


async def workspace_containers(docker, root: str) -> list:
    """Every container this workspace's ``up`` started (one ``docker ps``)."""
    return await list_containers(docker, {L_WORKSPACE: scope_id(root)}, LABEL_KEYS)


async def known_runtimes(
    ctx: BuildContext, opts: LocalOptions, deploy_keys: list[str]
) -> dict[str, str | None]:
    """``{image key: runtime key}`` where it is known before the engine is asked, so the
    runtime tags join the one existence check (``runtime_tags``)."""
    import trio

    return await trio.to_thread.run_sync(
        runtime_keys, ctx.store, ctx.graph, opts.cache_dir, opts.runtime_production, deploy_keys
    )


def runtime_tags(known: dict[str, str | None]) -> list[str]:
    return [f"{RUNTIME_REPO}:{key}" for key in known.values() if key]


async def remove_orphans(ctx: BuildContext, found: list, dry_run: bool = False) -> list[dict]:
    """Remove the containers ``found`` (:func:`orphans`); one row each. ``dry_run``: only
    say so."""
    if not dry_run:
        await remove_containers(ctx.docker, [c.name for c in found])
    state = "would remove" if dry_run else "removed"
    return [{"chute": c.labels.get(L_CHUTE, c.name), "key": c.labels.get(L_DEPLOY), "image":
             c.image, "url": None, "state": state, "note": "no longer in the workspace"}
            for c in found]  # fmt: skip


async def down_local(docker, root: str, chutes: list[str] | None) -> list[dict[str, Any]]:
    """Stop and remove this workspace's containers (only ``chutes`` when given)."""
    found = await workspace_containers(docker, root)
    gone = [c for c in found if chutes is None or chute_named(c, chutes)]
    await remove_containers(docker, [c.name for c in gone])
    return [{"container": c.name, "chute": c.labels.get(L_CHUTE), "state": "removed"}
            for c in gone]  # fmt: skip
