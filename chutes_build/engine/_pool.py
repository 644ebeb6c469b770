"""A pool of BuildKit engines that share one registry as their layer store.

Engines are named in ``builders = [...]`` (or ``$CHUTES_BUILD_BUILDERS``, ``--builders``,
comma-separated), each optionally as ``NAME=SPEC``:

- ``unix://PATH``, ``tcp://HOST:PORT``, ``ssh://USER@HOST``: a ``DOCKER_HOST`` URL
  (``tcp://`` with TLS takes ``$DOCKER_TLS_VERIFY`` and ``$DOCKER_CERT_PATH`` as docker does);
- ``buildx:NAME``: a buildx builder (only where the buildx plugin exists);
- ``local``: this machine's engine; any other word: a docker context.

A segment goes to an engine by **consistent hashing** of its first layer key (a ring
of 64 points per engine, ``xxh64``), so the next run of a chain returns to the engine
whose BuildKit cache is warm and adding an engine moves only its share. Each engine
runs at most ``jobs`` builds at once; when the warm engine is full, the segment takes
the next engine on the ring with a free slot (bounded-load consistent hashing), so a
cold build spreads over the whole pool.

Every segment builds ``FROM`` its parent's registry reference, is pushed, and is
recorded only once the registry holds it under its key, with the id the registry holds
(another machine's push of the same key wins, as every engine builds on it). When a build
or push fails and its engine no longer answers, the engine is marked down and the
segment is built again on the next engine on the ring; a failure on an engine that
answers is the build's own and is reported as such. Base images that exist only in
this machine's engine are copied into an engine that lacks them (``docker save`` |
``docker load``), once per engine; a buildx builder is expected to pull its bases.
"""

from __future__ import annotations

import bisect
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import trio
import xxhash

from ..core import BuildError
from ._decide import LAYER_REPO, image_ref
from ._docker import BUILDX, DockerClient, existing_images
from ._engines import EngineClient, EngineSpec, client_for, parse_builders, pool_settings
from ._orchestrate import build_logged
from ._registry import Registry

__all__ = [
    "Engine",
    "EngineClient",
    "Pool",
    "Ring",
    "open_configured",
    "open_pool",
    "parse_builders",
    "pool_settings",
]

RING_POINTS = 64


class Ring:
    """A consistent hash ring: each key's engines in preference order."""

    def __init__(self, names: list[str], points: int = RING_POINTS) -> None:
        ring = sorted((xxhash.xxh64_intdigest(f"{name}#{i}"), name)
                      for name in names for i in range(points))  # fmt: skip
        self._hashes = [h for h, _ in ring]
        self._names = [n for _, n in ring]
        self._count = len(set(names))

    def order(self, key: str) -> list[str]:
        start = bisect.bisect(self._hashes, xxhash.xxh64_intdigest(key))
        seen: dict[str, None] = {}
        for i in range(len(self._names)):
            seen.setdefault(self._names[(start + i) % len(self._names)], None)
            if len(seen) == self._count:
                break
        return list(seen)


@dataclass
class Engine:
    """One engine of the pool and what it did in this run."""

    name: str
    spec: str
    client: EngineClient
    jobs: int
    running: int = 0
    built: int = 0
    down: str | None = None
    bases: dict[str, trio.Lock] = field(default_factory=dict)
    seeded: set[str] = field(default_factory=set)


async def _answers(client: DockerClient) -> str | None:
    """``None`` when the engine answers, else why not (one line)."""
    with trio.move_on_after(20):
        proc = await trio.run_process(
            [client.path, "version", "--format", "{{.Server.Version}}"], capture_stdout=True,
            capture_stderr=True, check=False, env=client.env(), stdin=b"",
        )  # fmt: skip
        if proc.returncode == 0:
            return None
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {proc.returncode}"
    return "no answer within 20 s"


async def open_pool(
    local: DockerClient, registry: Registry, specs: list[EngineSpec], jobs: int
) -> Pool:
    """The pool of ``specs`` (each answering engine; at least one must answer)."""
    names = [s.name for s in specs]
    engines = [Engine(s.name, s.target, client_for(local, s, registry, names), max(1, jobs))
               for s in specs]  # fmt: skip
    answers: dict[str, str | None] = {}

    async def ask(engine: Engine) -> None:
        answers[engine.name] = await _answers(engine.client)

    async with trio.open_nursery() as nursery:
        for engine in engines:
            nursery.start_soon(ask, engine)
    await registry.ping()
    for engine in engines:
        engine.down = answers[engine.name]
    if all(engine.down for engine in engines):
        detail = "; ".join(f"{e.name}: {e.down}" for e in engines)
        raise BuildError(f"no engine of the pool answers ({detail})",
                         fix="start the engines (scripts/dockerd-extra start NAME DIR starts "
                         "one here) or fix builders")  # fmt: skip
    return Pool(engines, registry, local)


async def open_configured(docker: DockerClient, config, opts, env) -> Pool | None:
    """The pool the flags (``opts``: a ``RunOptions``), environment and workspace
    ``config`` name, if any."""
    registry, specs = pool_settings(opts.registry, opts.builders, env, config)
    if registry is None:
        return None
    return await open_pool(docker, registry, specs, opts.jobs)


class Pool:
    """Dispatches segments over engines; the run's view of the registry."""

    def __init__(self, engines: list[Engine], registry: Registry, local: DockerClient) -> None:
        self.engines = {engine.name: engine for engine in engines}
        self.registry, self.local = registry, local
        self.ring = Ring(list(self.engines))
        self.assigned: dict[str, str] = {}  # node id -> engine name
        self.failovers: list[dict[str, str]] = []
        self.pulled: list[str] = []
        self.on_assign: Callable[[str, str], None] = lambda node, engine: None
        self._freed = trio.Event()

    @property
    def jobs(self) -> int:
        """How many builds the whole pool runs at once."""
        return sum(engine.jobs for engine in self.engines.values())

    # -- dispatch -----------------------------------------------------------------------

    def _up(self, key: str) -> list[Engine]:
        engines = [self.engines[name] for name in self.ring.order(key)]
        up = [engine for engine in engines if engine.down is None]
        if not up:
            detail = "; ".join(f"{e.name}: {e.down}" for e in engines)
            raise BuildError(f"every engine of the pool is down ({detail})",
                             fix="restart the engines, or name others in builders")  # fmt: skip
        return up

    async def _acquire(self, key: str) -> Engine:
        while True:
            for engine in self._up(key):
                if engine.running < engine.jobs:
                    engine.running += 1
                    return engine
            await self._freed.wait()

    def _release(self, engine: Engine) -> None:
        engine.running -= 1
        self._freed.set()
        self._freed = trio.Event()

    async def build_segment(self, ctx, node: str, first: str, end: str, request) -> tuple:
        """Build ``request`` (the layers ``first``..``end``) on an engine of the pool,
        push it as ``end``'s registry reference; ``(image id, log digest, started)``."""
        parent = request.parent
        if parent.startswith(f"{LAYER_REPO}:"):
            parent = self.registry.layer(parent.split(":", 1)[1])
        request = replace(request, parent=parent, tag=self.registry.layer(end))
        while True:
            engine = await self._acquire(first)
            try:
                self.assigned[node] = engine.name
                self.on_assign(node, engine.name)
                build = self._build_on(engine, ctx, node, end, request)
                built = await self._on_engine(engine, node, build)
            finally:
                self._release(engine)  # the push needs no build slot
            push = self._push(engine, request, built) if built is not None else None
            pushed = await self._on_engine(engine, node, push) if push is not None else None
            if pushed is not None:
                engine.built += 1
                return pushed

    async def _on_engine(self, engine: Engine, node: str, step) -> Any:
        """``step``'s value; ``None`` when it failed because ``engine`` went away (it is
        marked down); a failure on an engine that still answers is raised."""
        try:
            return await step
        except BuildError as exc:
            reason = await _answers(engine.client)
            if reason is None:
                raise
            if engine.down is None:
                self._mark_down(engine, node, reason, exc)
            return None

    def _mark_down(self, engine: Engine, node: str, reason: str, exc: BuildError) -> None:
        engine.down = reason
        self.failovers.append({"node": node, "engine": engine.name, "reason": reason,
                               "error": exc.message.splitlines()[0]})  # fmt: skip

    async def _build_on(self, engine: Engine, ctx, node: str, end: str, request) -> tuple:
        if not request.parent.startswith(f"{self.registry.host}/"):
            await self._seed(engine, request.parent)
        result, digest, started = await build_logged(
            replace(ctx, docker=engine.client), node, end, request
        )
        return result.image_id, digest, started

    async def _push(self, engine: Engine, request, built: tuple) -> tuple:
        """Push the built image; the result to record, once the registry holds it.

        When another machine pushed the same key meanwhile, the registry's image is the
        one every engine will build on, so it is the one recorded."""
        await engine.client.push(request.tag)
        held = (await self.registry.image_ids([request.tag])).get(request.tag)
        if held is None:
            raise BuildError(
                f"registry {self.registry.host} does not hold {request.tag} after engine "
                f"{engine.name} pushed it",
                fix="check the registry's storage and logs, then build again",
            )
        return (held, *built[1:])

    async def _seed(self, engine: Engine, base: str) -> None:
        """Make sure ``engine`` has the base image ``base`` (copied from this machine's)."""
        if engine.client.mode == BUILDX and engine.client.builder or base in engine.seeded:
            return
        async with engine.bases.setdefault(base, trio.Lock()):
            if base in engine.seeded:
                return
            if not await existing_images(engine.client, [base]):
                await trio.to_thread.run_sync(_copy_image, self.local, engine, base)
            engine.seeded.add(base)

    # -- the registry as the image store ------------------------------------------------

    async def existing(self, graph, refs) -> dict[str, str]:
        """``existing_images`` for a pool: layers and images are looked up in the registry,
        anything else (bases, runtime layers) in this machine's engine."""
        refs = set(refs)
        images = {image_ref(attrs) for attrs in graph.nodes("image")}
        remote = {ref: self.registry.layer(ref.split(":", 1)[1])
                  for ref in refs if ref.startswith(f"{LAYER_REPO}:")}  # fmt: skip
        remote |= {ref: self.registry.image(ref) for ref in refs & images}
        ids = await self.registry.image_ids(remote.values())
        local = await existing_images(self.local, sorted(refs - set(remote)))
        return {ref: ids[reg] for ref, reg in remote.items() if reg in ids} | local

    async def tag_image(self, layer: str, ref: str) -> str:
        """Name the image: its top layer ``layer`` also as ``ref``, in the registry."""
        return await self.registry.retag(
            self.registry.layer(layer.split(":", 1)[1]), self.registry.image(ref)
        )

    async def pull_local(self, tag: str, image_id: str) -> None:
        """Bring ``tag`` (a layer tag) into this machine's engine from the registry."""
        if (await existing_images(self.local, [tag])).get(tag) == image_id:
            return
        remote = self.registry.layer(tag.split(":", 1)[1])
        await self.local.pull(remote)
        await self.local.tag_image(remote, tag)
        await self.local.remove_images([remote])  # untags; the image stays
        self.pulled.append(tag)

    def _extra_ref(self, tag: str) -> str:
        return self.registry.image(tag.removeprefix("chutes-build/"))

    async def push(self, tag: str) -> None:
        """Share ``tag`` (an image this machine's engine built, such as a runtime layer)."""
        ref = self._extra_ref(tag)
        await self.local.tag_image(tag, ref)
        await self.local.push(ref)
        await self.local.remove_images([ref])

    async def pull(self, tag: str) -> bool:
        """Bring ``tag`` here when the registry has it (:meth:`push` put it there)."""
        ref = self._extra_ref(tag)
        if ref not in await self.registry.image_ids([ref]):
            return False
        await self.local.pull(ref)
        await self.local.tag_image(ref, tag)
        await self.local.remove_images([ref])
        self.pulled.append(tag)
        return True

    def report(self, summary: dict[str, Any]) -> None:
        """Add the pool's section to a run's summary; images are named as the registry
        holds them (this machine's engine need not have them)."""
        summary["pool"] = self.summary()
        for row in summary["images"]:
            row["ref"] = self.registry.image(row["ref"])

    def summary(self) -> dict[str, Any]:
        return {
            "registry": f"{self.registry.host}/{self.registry.prefix}",
            "engines": [{"name": e.name, "spec": e.spec, "jobs": e.jobs, "built": e.built,
                         "down": e.down} for e in self.engines.values()],  # fmt: skip
            "failovers": self.failovers,
            "pulled": self.pulled,
        }


def _copy_image(local: DockerClient, engine: Engine, ref: str) -> None:
    save = subprocess.Popen([local.path, "save", ref], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=local.env())  # fmt: skip
    load = subprocess.run([engine.client.path, "load", "--quiet"], stdin=save.stdout,
                          capture_output=True, env=engine.client.env())  # fmt: skip
    save.stdout.close()
    saved = save.wait()
    if saved != 0 or load.returncode != 0:
        detail = (save.stderr.read() if saved else load.stderr).decode(errors="replace").strip()
        raise BuildError(
            f"base image {ref} could not be copied to engine {engine.name}: {detail}",
            fix=f"load it into that engine (`docker save {ref} | DOCKER_HOST=... docker load`) "
            "or push it to a registry the engine can pull from",
        )
