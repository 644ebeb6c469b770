"""Running the dirty nodes of a DAG with trio: dependency order, bounded parallelism.

The scheduler knows nothing about images or chutes. It reads a ``networkx.DiGraph``
whose edges point from a dependency to its dependent (``u -> v``: ``v`` needs ``u``;
the direction of a topological order), runs ``nodes_to_run`` with a caller-given
``run_node`` and hands each result to ``commit`` only once the node fully
succeeded, so the cache is written after success and never for a cancelled or
failed node. Nodes outside ``nodes_to_run`` count as done (cached); a node waits
for every node of ``nodes_to_run`` upstream of it, also through cached nodes.

Failure policy:

- fail fast (default): the first failure cancels every running node (``CANCELLED``
  events), the nodes not started are ``SKIPPED``, and :class:`DagFailed` is raised;
- ``keep_going``: everything not downstream of a failure runs; downstream nodes are
  ``SKIPPED``; :class:`DagFailed` is raised at the end with every failure.

Cancelling the caller (Ctrl-C, an outer scope) cancels every node and propagates;
``KeyboardInterrupt`` inside a node propagates out of the nursery as trio delivers
it (in a ``BaseExceptionGroup``). Events carry ``trio.current_time()``, so tests
with a mock clock see exact times.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import trio

from ..core import GraphError

__all__ = ["Cached", "DagFailed", "DagOutcome", "Event", "EventKind", "run_dag"]

Node = Hashable


class EventKind(enum.Enum):
    QUEUED = "queued"
    CACHED = "cached"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a node, at ``time`` (``trio.current_time()``).

    ``error`` is the exception of a ``FAILED`` node; ``cause`` the failed node that
    made a node ``SKIPPED`` (``None`` when fail-fast stopped the run).
    """

    kind: EventKind
    node: Node
    time: float
    error: BaseException | None = None
    cause: Node | None = None


@dataclass(frozen=True, slots=True)
class Cached:
    """Returned by ``run_node`` when the result was found done (no work ran).

    The node is reported ``CACHED`` instead of ``DONE``; ``value`` is committed.
    """

    value: Any


@dataclass(slots=True)
class DagOutcome:
    """What happened to each node of a run."""

    results: dict[Node, Any] = field(default_factory=dict)
    failed: dict[Node, Exception] = field(default_factory=dict)
    skipped: set[Node] = field(default_factory=set)
    cancelled: set[Node] = field(default_factory=set)


class DagFailed(ExceptionGroup):
    """One or more nodes failed; ``outcome`` says what happened to every node.

    Each sub-exception carries a note naming its node. It is an ``ExceptionGroup``,
    so ``except* BuildError`` picks out failed builds.
    """

    outcome: DagOutcome

    def __new__(cls, outcome: DagOutcome) -> DagFailed:
        self = super().__new__(cls, _failed_message(outcome), list(outcome.failed.values()))
        self.outcome = outcome
        return self

    def __init__(self, outcome: DagOutcome) -> None:
        super().__init__(_failed_message(outcome), list(outcome.failed.values()))

    def derive(self, excs):  # split()/subgroup() keep a plain group
        return ExceptionGroup(self.message, excs)


def _failed_message(outcome: DagOutcome) -> str:
    count = len(outcome.failed)
    return f"{count} node{'s' * (count != 1)} failed"


def _upstream(graph: nx.DiGraph, run: set[Node], order: list[Node]) -> dict[Node, set[Node]]:
    """For each node to run, the nearest nodes to run upstream of it."""
    memo: dict[Node, frozenset[Node]] = {}

    def nearest(node: Node) -> frozenset[Node]:
        # The run-set nodes reachable upstream of ``node`` without passing one.
        if node not in memo:
            found: set[Node] = set()
            for pred in graph.predecessors(node):
                found |= {pred} if pred in run else nearest(pred)
            memo[node] = frozenset(found)
        return memo[node]

    for node in order:  # a topological order: no deep recursion
        nearest(node)
    return {node: set(memo[node]) for node in run}


class _Run:
    def __init__(self, graph, run, run_node, commit, on_event, keep_going, limiter):
        self.run_node = run_node
        self.commit = commit
        self.on_event = on_event
        self.keep_going = keep_going
        self.limiter = limiter
        self.outcome = DagOutcome()
        topological = list(nx.topological_sort(graph))  # raises on a cycle
        upstream = _upstream(graph, run, topological)
        self.waiting = {node: len(deps) for node, deps in upstream.items()}
        self.downstream: dict[Node, list[Node]] = {node: [] for node in run}
        for node, deps in upstream.items():
            for dep in deps:
                self.downstream[dep].append(node)
        self.order = [node for node in topological if node in run]
        self.unstarted = set(run)
        self.nursery: trio.Nursery | None = None

    def emit(self, kind: EventKind, node: Node, **extra) -> None:
        if self.on_event is not None:
            self.on_event(Event(kind, node, trio.current_time(), **extra))

    async def node_task(self, node: Node) -> None:
        async with self.limiter:
            self.unstarted.discard(node)
            self.emit(EventKind.RUNNING, node)
            try:
                result = await self.run_node(node)
                value = result.value if isinstance(result, Cached) else result
                if self.commit is not None:
                    committed = self.commit(node, value)
                    if inspect.isawaitable(committed):
                        await committed
            except Exception as exc:
                self.fail(node, exc)
                return
            except BaseException:  # trio.Cancelled, KeyboardInterrupt
                self.outcome.cancelled.add(node)
                self.emit(EventKind.CANCELLED, node)
                raise
        self.outcome.results[node] = value
        self.emit(EventKind.CACHED if isinstance(result, Cached) else EventKind.DONE, node)
        for child in self.downstream[node]:
            self.waiting[child] -= 1
            if self.waiting[child] == 0:
                self.nursery.start_soon(self.node_task, child, name=f"node {child!r}")

    def fail(self, node: Node, exc: Exception) -> None:
        exc.add_note(f"while running node {node!r}")
        self.outcome.failed[node] = exc
        self.emit(EventKind.FAILED, node, error=exc)
        if not self.keep_going:
            self.nursery.cancel_scope.cancel()
            return
        stack = list(self.downstream[node])
        while stack:
            child = stack.pop()
            if child in self.outcome.skipped:
                continue
            self.outcome.skipped.add(child)
            self.unstarted.discard(child)
            self.emit(EventKind.SKIPPED, child, cause=node)
            stack.extend(self.downstream[child])


async def run_dag(
    graph: nx.DiGraph,
    nodes_to_run: Collection[Node],
    run_node: Callable[[Node], Awaitable[Any]],
    *,
    jobs: int | trio.CapacityLimiter = 1,
    keep_going: bool = False,
    commit: Callable[[Node, Any], Awaitable[None] | None] | None = None,
    on_event: Callable[[Event], None] | None = None,
    cached: Iterable[Node] = (),
) -> DagOutcome:
    """Run ``nodes_to_run`` of ``graph`` in dependency order, at most ``jobs`` at once.

    ``run_node(node)`` does the work and returns its result (or :class:`Cached`);
    ``commit(node, result)`` (sync or async) stores it and runs only after success;
    a node's dependents start after its commit. ``cached`` nodes are reported
    ``CACHED`` up front (for progress displays). ``jobs`` may be a shared
    ``CapacityLimiter`` (one per builder). Returns the :class:`DagOutcome`; raises
    :class:`DagFailed` when a node failed.
    """
    run = set(nodes_to_run)
    missing = run - set(graph.nodes)
    if missing:
        raise ValueError(
            f"nodes to run are not in the graph: {', '.join(sorted(map(repr, missing)))}"
        )
    limiter = jobs if isinstance(jobs, trio.CapacityLimiter) else trio.CapacityLimiter(jobs)
    try:
        state = _Run(graph, run, run_node, commit, on_event, keep_going, limiter)
    except nx.NetworkXUnfeasible as exc:
        raise GraphError(f"the build graph has a cycle: {exc}") from None
    for node in cached:
        state.emit(EventKind.CACHED, node)
    for node in state.order:
        state.emit(EventKind.QUEUED, node)
    async with trio.open_nursery() as nursery:
        state.nursery = nursery
        for node in state.order:
            if state.waiting[node] == 0:
                nursery.start_soon(state.node_task, node, name=f"node {node!r}")
    for node in state.order:
        if node in state.unstarted and node not in state.outcome.skipped:
            state.outcome.skipped.add(node)
            state.emit(EventKind.SKIPPED, node)
    if state.outcome.failed:
        raise DagFailed(state.outcome)
    return state.outcome
