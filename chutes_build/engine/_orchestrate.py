"""From the build graph to BuildKit builds: segments, one existence check, the DAG run.

The dirty layers of the images asked for are cut into **segments**: a segment is a
chain of layers built as one BuildKit build, starting ``FROM`` the nearest usable
ancestor (a layer whose tag ``chutes-build/layer:<key>`` exists, or the base) and
ending at a layer that must carry a tag of its own: the top of an image, or a
branch point (a layer several needed nodes build on). Siblings then start from the
branch point's tag, so shared layers are built once. A segment is the task of its
end layer's node, an image's task (``docker tag`` of its top layer as ``name:tag``)
that of the image node, and :func:`run_work` runs them in the build graph itself with
:func:`~chutes_build.engine._scheduler.run_dag`: the layers inside a segment are no
tasks, so a segment waits for the segment it starts from and an image for the
segment of its top layer through the graph's own edges.

Trust is checked once: every tag a cached result names is looked up in one
``docker image ls`` call; a result whose tag is gone is rebuilt. Results reach the
action cache only in the scheduler's commit, after success; build logs go to the
CAS (and a failed build's log is kept as a record so ``chutes-build logs`` shows it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import trio

from ..cache import ActionResult, Store
from ..cache import faults as _faults
from ..core import BuildError
from ._buildkit import BuildRequest, build
from ._context import context_files, expected_digests
from ._decide import image_fresh, image_ref, image_row, layer_tag, layer_usable, top_ref
from ._docker import existing_images
from ._progress import CachedEvent
from ._protocol import DockerEngine

__all__ = [
    "BuildContext",
    "Segment",
    "Task",
    "Work",
    "build_logged",
    "image_ref",
    "image_summary",
    "layer_tag",
    "plan_work",
    "run_work",
    "segments",
    "top_ref",
]

FAILED_LOGS = "failed-build"


@dataclass
class BuildContext:
    """What a run needs: the graph, the store, the client and the options."""

    graph: Any
    store: Store
    docker: DockerEngine
    network: str | None = None
    emit_line: Callable[[str, str], None] = lambda node, line: None
    workdir: str | None = None
    pool: Any = None  # a builders._pool.Pool: segments go to its engines and registry
    rerun: bool = False  # --force / --no-cache: no cached result is reused
    no_cache: bool = False  # --no-cache: builds also skip BuildKit's own cache


@dataclass
class Segment:
    """Layers ``layers`` (base-first) built in one build from ``parent`` (a ref)."""

    end: str
    layers: list[str]
    parent: str
    after: str | None  # the segment this one starts from, when it is built in this run
    # (the graph's edges order them; kept to say what a segment builds on)


@dataclass
class Task:
    """What running one graph node does: ``run`` the work, then ``commit`` its result
    (only after success, see the scheduler)."""

    label: str
    run: Callable[[], Awaitable[Any]]
    commit: Callable[[Any], None] | None = None


@dataclass
class Work:
    """What one run does to the graph's nodes: the tasks to run, by node key, and the
    nodes found up to date. The DAG the tasks run in is the graph itself: a node that is
    no task counts as done, and a task waits for every task upstream of it."""

    graph: Any
    tasks: dict[str, Task] = field(default_factory=dict)
    cached: dict[str, str] = field(default_factory=dict)  # key -> label
    existing: dict[str, str] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    built: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)  # keys of the nodes committed in this run

    def add(self, key: str, label: str, run, commit=None) -> None:
        self.tasks[key] = Task(label, run, commit)

    def skip(self, key: str, label: str) -> None:
        """Node ``key`` is up to date: shown as cached, nothing to run."""
        self.cached[key] = label

    def node_id(self, key: str) -> str:
        """How events and summaries name node ``key``: ``kind:key``."""
        return f"{self.graph.node(key).kind}:{key}"

    def label(self, key: str) -> str:
        task = self.tasks.get(key)
        return task.label if task is not None else self.cached.get(key, key)


# -- what is usable -------------------------------------------------------------------


def _actions(ctx: BuildContext, keys: Iterable[str]) -> dict[str, ActionResult]:
    found = {}
    for key in keys:
        result = ctx.store.get_action(key)
        if result is not None:
            found[key] = result
    return found


def _needed_layers(graph, image_keys: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for image in image_keys:
        for key in graph.chain(image):
            seen.setdefault(key, None)
    return list(seen)


# -- segments -----------------------------------------------------------------------------


def segments(graph, image_keys: list[str], usable: set[str]) -> dict[str, Segment]:
    """Cut the layers the images need and cannot reuse into segments, by end key."""
    todo: set[str] = set()
    tops = {graph.node(image).top for image in image_keys}
    for top in tops:
        key = top
        while key not in usable and graph.node(key).kind == "layer" and key not in todo:
            todo.add(key)
            key = graph.node(key).parent
    users = Counter(graph.node(k).parent for k in _needed_layers(graph, image_keys))
    ends = {k for k in todo if k in tops or users[k] != 1}
    found = {}
    for end in ends:
        layers, key = [end], graph.node(end).parent
        while key in todo and key not in ends:
            layers.append(key)
            key = graph.node(key).parent
        attrs = graph.node(key)
        parent = attrs.ref if attrs.kind == "base" else layer_tag(key)
        found[end] = Segment(end, layers[::-1], parent, key if key in ends else None)
    return found


def _missing_bases(
    graph, found: dict[str, Segment], image_keys: list[str], existing: dict[str, str]
) -> None:
    parents = {s.parent for s in found.values()
               if graph.node(graph.node(s.layers[0]).parent).kind == "base"}  # fmt: skip
    parents |= {graph.node(graph.node(k).top).ref for k in image_keys
                if graph.node(graph.node(k).top).kind == "base"}  # fmt: skip
    missing = sorted(ref for ref in parents if ref not in existing)
    if missing:
        names = ", ".join(missing)
        raise BuildError(
            f"base image {names} does not exist in the local Docker engine "
            "(no registry is reached for FROM)",
            fix=f"pull or load it (`docker pull {missing[0]}`), or map it to a local image with "
            "base-images in [tool.chutes-build] (scripts/base-images makes "
            "chutes-build/python-base:bookworm)",
        )


# -- tasks ----------------------------------------------------------------------------------


def _request(ctx: BuildContext, seg: Segment) -> BuildRequest:
    graph = ctx.graph
    # Secret-looking files reach a context only when an add() names them (issue 7).
    context, _explicit = context_files(graph, seg.layers)
    return BuildRequest(
        parent=seg.parent,
        lines=[graph.node(k).line for k in seg.layers],
        tag=layer_tag(seg.end),
        context=context,
        network=ctx.network,
        expected=expected_digests(graph, seg.layers),  # what the keys were computed from
        no_cache=ctx.no_cache,
    )


async def build_logged(ctx: BuildContext, node: str, key: str, request: BuildRequest):
    """Run ``request``; keep its log in the CAS (a failure's as a record under ``key``)."""
    started = time.time()
    try:
        result = await build(
            ctx.docker, request, on_line=lambda line: ctx.emit_line(node, line),
            workdir=ctx.workdir,
        )  # fmt: skip
    except BuildError as exc:
        log = getattr(exc, "log", "")
        if log:
            digest = ctx.store.put_blob(log.encode())
            ctx.store.put_record(FAILED_LOGS, key, digest.encode())
            exc.fix = f"{exc.fix}; the whole log: `chutes-build logs --build {key[:12]}`"
        raise
    digest = ctx.store.put_blob(result.log.encode())
    return result, digest, started


def _segment_task(ctx: BuildContext, work: Work, seg: Segment):
    node = f"layer:{seg.end}"  # what the log lines of the build are shown under

    async def run():
        if ctx.pool is not None:
            value = await ctx.pool.build_segment(ctx, node, seg.layers[0], seg.end,
                                                 _request(ctx, seg))  # fmt: skip
            _faults.hit("build.finished")
            return value
        result, digest, started = await build_logged(ctx, node, seg.end, _request(ctx, seg))
        _faults.hit("build.finished")
        return result.image_id, digest, started

    def commit(value) -> None:
        image_id, digest, started = value
        now = time.time()
        for key in seg.layers:
            outputs = {"tag": layer_tag(key), "image_id": image_id} if key == seg.end else {}
            outputs = outputs or {"segment": seg.end}
            ctx.store.put_action(
                key,
                ActionResult(kind="layer", outputs=outputs, logs=(digest,), created=now,
                             duration=now - started),
            )  # fmt: skip
            work.built.add(key)
            _faults.hit("commit.layer")
        work.existing[layer_tag(seg.end)] = image_id

    label = ctx.graph.node(seg.end).label
    work.add(seg.end, f"{len(seg.layers)} layer(s) ..{label}", run, commit)


def _image_task(ctx: BuildContext, work: Work, image: str) -> None:
    attrs = ctx.graph.node(image)
    ref, top = image_ref(attrs), top_ref(ctx.graph, image)

    async def run():
        if ctx.pool is not None:
            return await ctx.pool.tag_image(top, ref)
        await ctx.docker.tag_image(top, ref)
        return work.existing[top]

    def commit(image_id: str) -> None:
        outputs = {"tag": ref, "image_id": image_id, "layer": top}
        result = ActionResult(kind="image", outputs=outputs, created=time.time())
        ctx.store.put_action(image, result)
        work.existing[ref] = image_id

    work.add(image, f"image {attrs.label}", run, commit)


def _record_bases(ctx: BuildContext, image_keys: list[str], existing: dict[str, str]) -> None:
    """A base found in the engine is a result too (so ``plan`` shows it cached)."""
    for key in {ctx.graph.chain(image)[0] for image in image_keys}:
        ref = ctx.graph.node(key).ref
        if ref in existing and not ctx.store.has_action(key):
            outputs = {"tag": ref, "image_id": existing[ref]}
            ctx.store.put_action(key, ActionResult(kind="base", outputs=outputs))


# -- planning and running ---------------------------------------------------------------------


async def plan_work(
    ctx: BuildContext, image_keys: list[str], extra_refs: Iterable[str] = ()
) -> Work:
    """One existence check, then the tasks that bring ``image_keys`` up to date."""
    graph = ctx.graph
    layers = [k for k in _needed_layers(graph, image_keys) if graph.node(k).kind == "layer"]
    results = _actions(ctx, [*layers, *image_keys])
    refs = {r.outputs["tag"] for r in results.values() if "tag" in r.outputs}
    refs |= {graph.node(k).ref for k in _needed_layers(graph, image_keys)
             if graph.node(k).kind == "base"}  # fmt: skip
    work = Work(graph)
    wanted = sorted(refs | set(extra_refs))
    if ctx.pool is not None:
        work.existing = await ctx.pool.existing(graph, wanted)
    else:
        work.existing = await existing_images(ctx.docker, wanted)
    _record_bases(ctx, image_keys, work.existing)
    usable = set() if ctx.rerun else {k for k in layers
                                       if layer_usable(results.get(k), work.existing)}
    found = segments(graph, image_keys, usable)
    _missing_bases(graph, found, image_keys, work.existing)
    for seg in sorted(found.values(), key=lambda s: len(s.layers)):
        _segment_task(ctx, work, seg)
    for image in image_keys:
        attrs = graph.node(image)
        top = top_ref(graph, image)
        fresh = not ctx.rerun and attrs.top not in found
        fresh = fresh and image_fresh(results.get(image), work.existing, image_ref(attrs), top)
        work.images[image] = {"ref": image_ref(attrs), "layer": top}
        if fresh:
            work.skip(image, f"image {attrs.label}")
        else:
            _image_task(ctx, work, image)
    return work


async def run_work(work: Work, *, jobs: int, keep_going: bool, on_event=None):
    """Run ``work``'s tasks in the graph with the trio scheduler; commits run only after
    success. ``on_event`` gets the scheduler's events, which name nodes by key.

    Returns the scheduler's outcome (``outcome.failed`` holds the failures, by key), or
    ``None`` when there was nothing to run.

    With nothing to run, the cached nodes are reported without the scheduler (importing
    networkx alone costs a no-op ``up`` a fifth of a second).
    """
    if not work.tasks:
        for key in work.cached:
            if on_event is not None:
                on_event(CachedEvent(key))
        return None
    from ._scheduler import DagFailed, run_dag

    async def run_node(key: str):
        return await work.tasks[key].run()

    @trio.lowlevel.enable_ki_protection
    def commit(key: str, value: Any) -> None:
        # Ctrl-C waits for the next checkpoint: a node's entries are written together.
        if work.tasks[key].commit is not None:
            work.tasks[key].commit(value)
        work.done.add(key)

    try:
        return await run_dag(
            work.graph.nx, list(work.tasks), run_node, jobs=jobs, keep_going=keep_going,
            commit=commit, on_event=on_event, cached=list(work.cached),
        )  # fmt: skip
    except DagFailed as exc:
        return exc.outcome


def image_summary(ctx: BuildContext, work: Work) -> list[dict[str, Any]]:
    """For each image: key, chutes, the reference built or reused, ``built``/``cached``."""
    rows = []
    for image, info in work.images.items():
        attrs = ctx.graph.node(image)
        built = any(k in work.built for k in ctx.graph.chain(image))
        status = "built" if built else "cached"
        if image in work.tasks and image not in work.done:
            status = "failed"  # it, or a layer below it, failed or was cut short
        rows.append(image_row(attrs, info["layer"], status))
    return rows
