"""One run of ``build`` or ``up``, for any target: ``run(session, target, options)``.

A :class:`Target` (the local engine, the chutes platform; a registry or a pool of
builders plug in the same way) connects, then turns the graph into :class:`Work`: the
tasks to run, keyed by graph node. ``run`` does the rest the same way for every
target: the shared cache is read before the plan, the tasks run in the graph with
the scheduler, new results are pushed, and the target adds its part of the summary.
It is an async generator (made safe for trio's nurseries by ``trio.as_safe_channel``)
that yields typed events as things happen and, last, :class:`Finished` with the summary::

    async with run(session, LocalTarget(), options) as events:
        async for event in events:
            ...  # NodeEvent, LogLine, EngineAssigned, Warm, then Finished

With ``options.dry_run`` the target plans through a store that drops writes and the
summary says what would run; nothing is built, started, sent or recorded.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio

from ..cache import RecordingStore, pull, push
from ._options import DryRunStore, RunOptions, Session
from ._orchestrate import Work, run_work

__all__ = [
    "EngineAssigned",
    "Event",
    "Finished",
    "LogLine",
    "NodeEvent",
    "Run",
    "Session",
    "Target",
    "Warm",
    "cache_summary",
    "run",
    "shared_cache",
]


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeEvent:
    """Node ``node`` (``kind:key``) is queued, running, done, cached, failed, skipped or
    cancelled (``kind.value``); ``error`` is a failed node's exception."""

    kind: Any  # the scheduler's EventKind
    node: str
    label: str
    error: BaseException | None = None


@dataclass(frozen=True)
class LogLine:
    """A line of a node's build log."""

    node: str
    line: str


@dataclass(frozen=True)
class EngineAssigned:
    """Node ``node`` was sent to the pool engine ``engine`` (again, after a failover)."""

    node: str
    engine: str


@dataclass(frozen=True)
class Warm:
    """A status frame of warming chute ``chute`` (``up --target chutes --warm``)."""

    node: str
    label: str
    chute: str
    status: dict[str, Any]


@dataclass(frozen=True)
class Finished:
    """The last event: the run's summary (what ``--json`` prints)."""

    summary: dict[str, Any]


Event = NodeEvent | LogLine | EngineAssigned | Warm | Finished


# -- targets --------------------------------------------------------------------------------


@dataclass
class Run:
    """What a target reads and writes during one run."""

    session: Session
    options: RunOptions
    store: RecordingStore  # records what this run wrote (over a DryRunStore for --dry-run)
    emit: Callable[[Event], None]
    stack: contextlib.AsyncExitStack  # clients a target opens live until the run ends
    jobs: int = 4  # tasks at once; a pool of engines adds its own
    remote: Any = None  # the shared cache, when one is configured
    notes: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    """Where a run builds and deploys."""

    name: str

    async def open(self, run: Run) -> None:
        """Connect (an engine, a platform client on ``run.stack``) and check credentials."""
        ...

    def lookup_keys(self, run: Run) -> Iterable[str]:
        """The action-cache keys the plan reads (the shared cache fetches them first)."""
        ...

    async def plan(self, run: Run) -> Work:
        """The tasks that bring the selected chutes up to date on this target."""
        ...

    def dry_run(self, run: Run, work: Work) -> dict[str, Any]:
        """The summary of ``--dry-run``: what would run."""
        ...

    async def finish(self, run: Run, work: Work, outcome: Any, summary: dict[str, Any]) -> None:
        """Add the target's rows (images, chutes) and failures to ``summary``."""
        ...


# -- the shared cache ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def shared_cache(workspace) -> AsyncIterator[Any]:
    """The workspace's remote cache client (or None when none is configured): the
    ``remote_cache`` setting or ``CHUTES_BUILD_REMOTE_CACHE``, with the team key from
    ``CHUTES_BUILD_CACHE_KEY`` only."""
    if not (workspace.config.remote_cache or os.environ.get("CHUTES_BUILD_REMOTE_CACHE")):
        yield None  # without one, httpx is not even imported
        return
    from ..cache import remote_cache_from_env

    remote = remote_cache_from_env(os.environ, url=workspace.config.remote_cache)
    if remote is None:
        yield None
        return
    async with remote:
        yield remote


def cache_summary(remote, pulled, pushed) -> dict[str, Any] | None:
    if remote is None:
        return None
    s = remote.stats
    return {"url": remote.url, "pulled": pulled.pulled, "pushed": pushed.pushed,
            "hits": s.hits, "misses": s.misses, "rejected": s.rejected, "errors": s.errors,
            "notes": list(s.notes[-5:])}  # fmt: skip


# -- the run ---------------------------------------------------------------------------------


def _failures(work: Work, outcome) -> list[dict[str, Any]]:
    failed = outcome.failed.items() if outcome is not None else ()
    return [{"node": work.node_id(key), "label": work.label(key), "error": str(error)}
            for key, error in failed]  # fmt: skip


async def _drive(session: Session, target: Target, options: RunOptions, emit) -> dict[str, Any]:
    store = RecordingStore(DryRunStore(session.store) if options.dry_run else session.store)
    async with contextlib.AsyncExitStack() as stack:
        state = Run(session, options, store, emit, stack, jobs=options.jobs)
        await target.open(state)
        if options.dry_run:
            return target.dry_run(state, await target.plan(state))
        state.remote = await stack.enter_async_context(shared_cache(session.workspace))
        pulled = await pull(state.remote, session.store, target.lookup_keys(state))
        work = await target.plan(state)

        def on_event(event) -> None:
            key = event.node
            emit(NodeEvent(event.kind, work.node_id(key), work.label(key), event.error))

        outcome = await run_work(work, jobs=state.jobs, keep_going=options.keep_going,
                                 on_event=on_event)  # fmt: skip
        pushed = await push(state.remote, session.store, store.written)
        summary: dict[str, Any] = {"failed": _failures(work, outcome)}
        await target.finish(state, work, outcome, summary)
        if state.remote is not None:
            summary["remote_cache"] = cache_summary(state.remote, pulled, pushed)
        return summary


@trio.as_safe_channel
async def run(session: Session, target: Target, options: RunOptions):
    """Run ``target`` over ``session``'s graph with ``options``; yield its events, then
    :class:`Finished`. An error (a :class:`~chutes_build.core.ChutesBuildError` that
    stops the run before its tasks, or any other) is raised to the reader as itself."""
    send, receive = trio.open_memory_channel[Event](math.inf)
    found: dict[str, Any] = {}

    async def drive() -> None:
        with send:
            try:
                found["summary"] = await _drive(session, target, options, send.send_nowait)
            except Exception as exc:  # raised below, outside the nursery's group
                found["error"] = exc

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drive)
        with receive:
            async for event in receive:
                yield event
    if "error" in found:
        raise found["error"]
    yield Finished(found["summary"])
