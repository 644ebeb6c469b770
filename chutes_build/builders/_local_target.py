"""The local deploy target: each changed chute runs as a container on this machine.

A chute runs from its **runtime image**: the chute's image plus the runtime layer
(see ``_runtime_layer``), cached like any layer under ``chutes-build/runtime:<key>``.
The chute's code is not baked in: the workspace is mounted read-only at
``/workspace``, so a code-only edit changes the deploy key, restarts that one
container and builds nothing. Containers use ``--network=host`` and a stable port
per chute (``port_base`` plus an assignment kept in the store, so adding a chute
never moves the others). Labels carry the workspace, the chute, the deploy key and
the runtime key; a container whose labels match and which is running is left alone.

Template chutes (vLLM, SGLang, embeddings, diffusion, TEI) are built but reported
``needs-gpu`` on a machine without a GPU; with one (see :func:`has_gpu`) they run with
``--gpus all``. With ``runtime_production`` the runtime layer also carries production
mode's packages (its key covers the wheel set, so the switch rebuilds only that layer;
the container still starts the server with ``--dev``). A chute with a prebuilt image reference
cannot be built or run here and is reported ``prebuilt``.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import DeployError
from ..cache import ActionResult, _faults, scope_id
from ._containers import list_containers, remove_containers, run_container, wait_http
from ._docker import docker_command, existing_images
from ._orchestrate import BuildContext, Work, build_logged, layer_tag
from ._runtime_layer import (
    RUNTIME_PREFIX,
    PythonInfo,
    probe_python,
    runtime_request,
    runtime_wheels,
    wheel_digests,
)

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

GPU_TEMPLATES = frozenset({"vllm", "sglang", "embedding", "diffusion", "tei"})
RUNTIME_REPO = "chutes-build/runtime"
MOUNT = "/workspace"
HEALTH_PATH = "/_ping"
LABEL = "chutes-build"
L_WORKSPACE, L_CHUTE = f"{LABEL}.workspace", f"{LABEL}.chute"
L_DEPLOY, L_RUNTIME = f"{LABEL}.deploy", f"{LABEL}.runtime"


@dataclass
class LocalOptions:
    """Settings of the local target, read at the entry point."""

    cache_dir: str
    port_base: int = 18000
    gpu: bool = False
    health_timeout: float = 60.0
    runtime_production: bool = False


def nvidia_devices() -> list[str]:
    """The lines of ``nvidia-smi -L`` naming a GPU (none when it is missing or fails)."""
    try:
        proc = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    return [line for line in proc.stdout.splitlines() if line.startswith("GPU ")]


def has_gpu(env: dict[str, str], devices: Callable[[], list[str]] = nvidia_devices) -> bool:
    """Whether template chutes may be started here (with ``--gpus all``): off unless
    ``CHUTES_BUILD_LOCAL_GPU=1``, and then only when ``nvidia-smi -L`` lists a GPU."""
    if env.get("CHUTES_BUILD_LOCAL_GPU") != "1":
        return False
    return bool(devices())


def container_gpus(attrs: dict[str, Any], gpu: bool) -> str | None:
    """``--gpus``' value for a deploy node: ``all`` for a template chute on a GPU host."""
    template = attrs["definition"].get("standard_template")
    return "all" if gpu and template in GPU_TEMPLATES else None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-.") or "chute"


def container_name(workspace_root: str, chute: str) -> str:
    """``chutes-build-<chute>-<workspace id>``: stable, unique per workspace."""
    return f"chutes-build-{_slug(chute)}-{scope_id(workspace_root)[:6]}"


def assign_ports(store, root: str, slots: list[str], base: int) -> dict[str, int]:
    """A port per chute slot, kept across runs (call under the workspace lock)."""
    name = scope_id(root)
    known = store.load_struct("ports", name, dict[str, int]) or {}
    taken = set(known.values())
    changed = False
    for slot in sorted(slots):
        if slot not in known:
            port = base
            while port in taken:
                port += 1
            known[slot], changed = port, True
            taken.add(port)
    if changed:
        store.save_struct("ports", name, known)
    return known


def runtime_key(image_key: str, python: PythonInfo, digests: dict[str, str]) -> str:
    from ..graph import node_key

    payload = {"python": python.tag, "prefix": RUNTIME_PREFIX, "wheels": digests}
    return node_key("runtime", payload, (image_key,))


async def _known_runtime(
    ctx: BuildContext, opts: LocalOptions, image: str, memo: dict[str, dict[str, str]]
) -> str | None:
    """The runtime layer's key when it can be told without the engine (probe cached)."""
    top = ctx.store.get_action(ctx.graph.node(image)["top"])
    image_id = top.outputs.get("image_id", "") if top else ""
    python = ctx.store.load_struct("python-probe", image_id.rpartition(":")[2][:64] or "-",
                                   PythonInfo)  # fmt: skip
    if python is None:
        return None
    if python.tag not in memo:
        wheels = await runtime_wheels(opts.cache_dir, python, opts.runtime_production)
        memo[python.tag] = wheel_digests(wheels)
    return runtime_key(image, python, memo[python.tag])


@dataclass
class _Chute:
    key: str
    attrs: dict[str, Any]
    name: str
    port: int
    row: dict[str, Any]


class _Planner:
    def __init__(self, ctx: BuildContext, opts: LocalOptions, work: Work) -> None:
        self.ctx, self.opts, self.work = ctx, opts, work
        self.runtimes: dict[str, str] = {}  # image key -> runtime key, once known

    def runtime_task(self, image: str, known: str | None) -> None:
        ctx, opts, work = self.ctx, self.opts, self.work
        node, top = f"runtime:{image}", layer_tag(ctx.graph.node(image)["top"])
        if known and ctx.store.has_action(known) and f"{RUNTIME_REPO}:{known}" in work.existing:
            self.runtimes[image] = known
            work.skip(node, f"runtime layer {ctx.graph.node(image)['label']}")
            return

        async def run():
            if ctx.pool is not None:  # built by an engine of the pool: bring it here
                await ctx.pool.pull_local(top, work.existing[top])
            python = await probe_python(ctx.docker, top, work.existing[top], ctx.store)
            wheels = await runtime_wheels(opts.cache_dir, python, opts.runtime_production)
            key = runtime_key(image, python, wheel_digests(wheels))
            tag = f"{RUNTIME_REPO}:{key}"
            self.runtimes[image] = key
            if ctx.store.has_action(key) and (await existing_images(ctx.docker, [tag])):
                return None
            if ctx.pool is not None and ctx.store.has_action(key) and await ctx.pool.pull(tag):
                return None  # another machine built it: pulled from the pool's registry
            request = runtime_request(top, wheels, tag, ctx.network)
            result, digest, started = await build_logged(ctx, node, key, request)
            _faults.hit("build.finished")
            if ctx.pool is not None:
                await ctx.pool.push(tag)
            return key, result.image_id, digest, started

        def commit(value) -> None:
            if value is not None:
                key, image_id, digest, started = value
                outputs = {"tag": f"{RUNTIME_REPO}:{key}", "image_id": image_id}
                ctx.store.put_action(key, ActionResult(
                    kind="runtime", outputs=outputs, logs=(digest,), created=time.time(),
                    duration=time.time() - started))  # fmt: skip

        work.add(node, f"runtime layer {ctx.graph.node(image)['label']}", run,
                 [f"image:{image}"], commit)  # fmt: skip

    def deploy_task(self, chute: _Chute, existing: dict[str, Any]) -> None:
        ctx, work, image = self.ctx, self.work, chute.attrs["image"]
        old = existing.get(chute.name)

        async def run():
            runtime = self.runtimes[image]
            if old is not None and _matches(old, chute.key, runtime):
                if ctx.store.has_action(chute.key):
                    chute.row["state"] = "unchanged"
                    return None
                if await _adopt(self.opts, chute):
                    return old.id
            if old is not None:
                await remove_containers(ctx.docker, [chute.name])
            _faults.hit("deploy.before-start")
            container = await _start(ctx, self.opts, chute, runtime)
            _faults.hit("deploy.started")
            chute.row["state"] = "restarted" if old is not None else "started"
            return container

        def commit(container) -> None:
            if container is not None:
                outputs = {"container": container, "url": chute.row["url"], "runtime":
                           self.runtimes[image]}  # fmt: skip
                ctx.store.put_action(chute.key, ActionResult(
                    kind="deploy-local", outputs=outputs, created=time.time()))  # fmt: skip

        work.add(f"deploy:{chute.key}", f"run {chute.attrs['chute']}", run,
                 [f"runtime:{image}"], commit)  # fmt: skip


def _matches(info, deploy_key: str, runtime: str | None) -> bool:
    labels = info.labels
    return (
        info.state == "running"
        and labels.get(L_DEPLOY) == deploy_key
        and labels.get(L_RUNTIME) == runtime
    )


async def _adopt(opts: LocalOptions, chute: _Chute) -> bool:
    """A matching container whose start was never recorded (its ``up`` was killed after
    ``docker run``, issue 7) is kept when it answers its health check; else restarted."""
    try:
        await wait_http(chute.row["url"] + HEALTH_PATH, timeout=opts.health_timeout)
    except DeployError:
        return False
    chute.row["state"] = "unchanged"
    return True


async def _start(ctx: BuildContext, opts: LocalOptions, chute: _Chute, runtime: str) -> str:
    attrs, root = chute.attrs, ctx.graph.root
    command = [f"{RUNTIME_PREFIX}/bin/python", "-m", "chutes_runtime",
               f"{MOUNT}/{attrs['file']}:{attrs['attr']}", "--dev", "--host", "127.0.0.1",
               "--port", str(chute.port)]  # fmt: skip
    labels = {L_WORKSPACE: scope_id(root), L_CHUTE: _slug(attrs["chute"]),
              L_DEPLOY: chute.key, L_RUNTIME: runtime}  # fmt: skip
    container = await run_container(
        ctx.docker, f"{RUNTIME_REPO}:{runtime}", name=chute.name, command=command,
        labels=labels, env={"PYTHONDONTWRITEBYTECODE": "1"}, mounts={root: MOUNT},
        gpus=container_gpus(attrs, opts.gpu),
    )  # fmt: skip
    try:
        await wait_http(chute.row["url"] + HEALTH_PATH, timeout=opts.health_timeout,
                        alive=lambda: _running(ctx, chute.name))  # fmt: skip
    except DeployError as exc:
        # Its log goes into the message; the container goes, so the next `up` retries.
        tail = await _logs_tail(ctx, chute.name)
        await remove_containers(ctx.docker, [chute.name])
        raise DeployError(
            f"chute {attrs['chute']} (container {chute.name}) did not become healthy: "
            f"{exc.message}\n{tail}",
            fix=f"see the log above; `chutes-build run {attrs['file']}:{attrs['attr']} --dev` "
            "runs it without an engine",
        ) from None
    return container


async def _running(ctx: BuildContext, name: str) -> bool:
    """Whether container ``name`` still runs: a chute that crashes at start-up then fails
    at once with its whole log rather than after the health timeout."""
    try:
        state = await docker_command(ctx.docker, ["inspect", "-f", "{{.State.Running}}", name])
    except Exception:  # noqa: BLE001 - a vanished container has exited too
        return False
    return state.strip() == "true"


async def _logs_tail(ctx: BuildContext, name: str) -> str:
    proc_out = ""
    try:
        proc_out = await docker_command(ctx.docker, ["logs", "--tail", "30", name])
    except Exception:  # noqa: BLE001 - best effort: the container may be gone
        return ""
    return "\n".join(f"  | {line}" for line in proc_out.splitlines())


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
    existing = {c.name: c for c in containers}
    slots = [graph.node(k)["slot"] for k in deploy_keys]
    ports = assign_ports(ctx.store, root, slots, opts.port_base)
    planner, rows = _Planner(ctx, opts, work), []
    for key in deploy_keys:
        attrs = graph.node(key)
        port = ports[attrs["slot"]]
        row = {"chute": attrs["chute"], "key": key, "image": attrs["image_ref"],
               "url": f"http://127.0.0.1:{port}", "state": None}  # fmt: skip
        rows.append(row)
        template = attrs["definition"].get("standard_template")
        if attrs["image"] is None:
            row.update(state="prebuilt", url=None,
                       note="prebuilt image reference: not built or run locally")  # fmt: skip
            continue
        if template in GPU_TEMPLATES and not opts.gpu:
            row.update(state="needs-gpu", url=None,
                       note=f"{template} template: needs a GPU to run")  # fmt: skip
            continue
        image = attrs["image"]
        if f"runtime:{image}" not in work.labels:
            planner.runtime_task(image, known.get(image))
        chute = _Chute(key, attrs, container_name(root, attrs["chute"]), port, row)
        old, runtime = existing.get(chute.name), planner.runtimes.get(image)
        if (
            old is not None and runtime is not None and _matches(old, key, runtime)
            and ctx.store.has_action(key)
        ):  # fmt: skip
            row["state"] = "unchanged"
            continue
        planner.deploy_task(chute, existing)
    return rows


async def workspace_containers(docker, root: str) -> list:
    """Every container this workspace's ``up`` started (one ``docker ps``)."""
    return await list_containers(docker, {L_WORKSPACE: scope_id(root)})


async def known_runtimes(
    ctx: BuildContext, opts: LocalOptions, deploy_keys: list[str]
) -> dict[str, str | None]:
    """``{image key: runtime key}`` where it is known before the engine is asked, so the
    runtime tags join the one existence check (``runtime_tags``)."""
    found: dict[str, str | None] = {}
    memo: dict[str, dict[str, str]] = {}
    for key in deploy_keys:
        image = ctx.graph.node(key)["image"]
        if image is not None and image not in found:
            found[image] = await _known_runtime(ctx, opts, image, memo)
    return found


def runtime_tags(known: dict[str, str | None]) -> list[str]:
    return [f"{RUNTIME_REPO}:{key}" for key in known.values() if key]


def orphans(root: str, graph, containers: list) -> list:
    """This workspace's containers whose chute is no longer in ``graph`` (a full ``up``
    removes them: the chute was deleted or renamed)."""
    wanted = {container_name(root, attrs["chute"]) for attrs in graph.nodes("deploy")}
    return [c for c in containers if c.name not in wanted]


async def remove_orphans(ctx: BuildContext, found: list) -> list[dict[str, Any]]:
    await remove_containers(ctx.docker, [c.name for c in found])
    return [{"chute": c.labels.get(L_CHUTE, c.name), "key": c.labels.get(L_DEPLOY), "image":
             c.image, "url": None, "state": "removed", "note": "no longer in the workspace"}
            for c in found]  # fmt: skip


async def down_local(docker, root: str, chutes: list[str] | None) -> list[dict[str, Any]]:
    """Stop and remove this workspace's containers (only ``chutes`` when given)."""
    found = await list_containers(docker, {L_WORKSPACE: scope_id(root)})
    wanted = None if chutes is None else {_slug(c) for c in chutes}
    gone = [c for c in found if wanted is None or c.labels.get(L_CHUTE) in wanted]
    await remove_containers(docker, [c.name for c in gone])
    return [{"container": c.name, "chute": c.labels.get(L_CHUTE), "state": "removed"}
            for c in gone]  # fmt: skip
