"""The trio DAG scheduler, with a fake run_node, trio's autojump clock and recorded
events. Every test that cancels or fails asserts what reached the (fake) cache."""

from __future__ import annotations

import signal
import subprocess
import sys

import networkx as nx
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from chutes_build.core._errors import GraphError
from chutes_build.engine._scheduler import (
    Cached,
    EventKind,
    run_dag,
)

Q, R, D, C, F, S, X = (
    EventKind.QUEUED,
    EventKind.RUNNING,
    EventKind.DONE,
    EventKind.CACHED,
    EventKind.FAILED,
    EventKind.SKIPPED,
    EventKind.CANCELLED,
)


def dag(*edges: str, nodes: str = "") -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(tuple(edge) for edge in edges)
    return graph


class Recorder:
    """A fake builder and cache: run_node sleeps per node, commit stores results."""

    def __init__(self, durations=None, fail=(), fail_with=ValueError):
        self.durations = durations or {}
        self.fail = set(fail)
        self.fail_with = fail_with
        self.events = []
        self.committed = {}
        self.running = 0
        self.max_running = 0

    async def run_node(self, node):
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await trio.sleep(self.durations.get(node, 1))
            if node in self.fail:
                raise self.fail_with(f"node {node} broke")
            return f"result-{node}"
        finally:
            self.running -= 1

    def commit(self, node, result):
        self.committed[node] = result

    def on_event(self, event):
        self.events.append(event)

    def timeline(self, kinds=(R, D, C, F, S, X)):
        return [(e.kind, e.node, e.time) for e in self.events if e.kind in kinds]

    async def run(self, graph, nodes=None, **options):
        options.setdefault("jobs", 4)
        return await run_dag(
            graph,
            set(graph.nodes) if nodes is None else nodes,
            self.run_node,
            commit=self.commit,
            on_event=self.on_event,
            **options,
        )


async def test_diamond_runs_in_dependency_order_with_independent_nodes_in_parallel(
    autojump_clock,
):
    rec = Recorder()
    outcome = await rec.run(dag("ab", "ac", "bd", "cd"))
    assert [e.kind for e in rec.events[:4]] == [Q] * 4
    assert rec.events[0].node == "a" and rec.events[3].node == "d"
    timeline = rec.timeline()
    assert timeline[0] == (R, "a", 0) and timeline[1] == (D, "a", 1)
    assert sorted(timeline[2:4]) == [(R, "b", 1), (R, "c", 1)]
    assert sorted(timeline[4:6]) == [(D, "b", 2), (D, "c", 2)]
    assert timeline[6:] == [(R, "d", 2), (D, "d", 3)]
    assert outcome.results == rec.committed == {n: f"result-{n}" for n in "abcd"}


async def test_jobs_bounds_parallelism(autojump_clock):
    rec = Recorder()
    await rec.run(dag(nodes="vwxyz"), jobs=2)
    assert rec.max_running == 2
    assert trio.current_time() == 3  # ceil(5 / 2) rounds of one second


async def test_a_shared_capacity_limiter_bounds_two_runs(autojump_clock):
    limiter = trio.CapacityLimiter(1)
    first, second = Recorder(), Recorder()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: first.run(dag(nodes="ab"), jobs=limiter))
        nursery.start_soon(lambda: second.run(dag(nodes="cd"), jobs=limiter))
    assert trio.current_time() == 4
    assert len(first.committed) == len(second.committed) == 2


async def test_nodes_outside_the_run_set_count_as_done_but_still_order_their_users(
    autojump_clock,
):
    # a -> x -> c: x is cached, yet c (downstream of a through x) waits for a.
    rec = Recorder()
    await rec.run(dag("ax", "xc", "bx"), nodes={"a", "c"}, cached=["x", "b"])
    assert rec.timeline((C,)) == [(C, "x", 0), (C, "b", 0)]
    assert rec.timeline((R, D)) == [(R, "a", 0), (D, "a", 1), (R, "c", 1), (D, "c", 2)]
    assert set(rec.committed) == {"a", "c"}


async def test_events_recorded_step_by_step(autojump_clock):
    gates = {node: trio.Event() for node in "abc"}
    events, committed = [], []

    async def run_node(node):
        await gates[node].wait()
        return node

    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: run_dag(
                dag("ab", "ac"), {"a", "b", "c"}, run_node, jobs=2,
                on_event=events.append, commit=lambda n, r: committed.append(n),
            )
        )  # fmt: skip
        await trio.testing.wait_all_tasks_blocked()
        assert [(e.kind, e.node) for e in events] == [(Q, "a"), (Q, "b"), (Q, "c"), (R, "a")]
        assert committed == []
        gates["a"].set()
        await trio.testing.wait_all_tasks_blocked()
        assert committed == ["a"]
        assert {(e.kind, e.node) for e in events[4:]} == {(D, "a"), (R, "b"), (R, "c")}
        assert events[4].kind == D  # done (and committed) before its dependents start
        gates["c"].set()
        await trio.testing.wait_all_tasks_blocked()
        assert committed == ["a", "c"]
        gates["b"].set()
    assert committed == ["a", "c", "b"]


async def test_fail_fast_cancels_running_nodes_and_skips_the_rest(autojump_clock):
    rec = Recorder(durations={"a": 1, "b": 10}, fail={"a"})
    with pytest.RaisesGroup(
        pytest.RaisesExc(ValueError, match=r"^node a broke\nwhile running node 'a'$")
    ) as info:
        await rec.run(dag("ac", "cd", nodes="b"))
    assert trio.current_time() == 1  # b's ten seconds were not waited for
    outcome = info.value.outcome
    assert set(outcome.failed) == {"a"} and outcome.cancelled == {"b"}
    assert outcome.skipped == {"c", "d"}
    assert rec.timeline((F, X, S)) == [(F, "a", 1), (X, "b", 1), (S, "c", 1), (S, "d", 1)]
    assert "while running node 'a'" in outcome.failed["a"].__notes__
    assert rec.committed == {}  # nothing partial reached the cache


async def test_keep_going_builds_everything_not_downstream_of_a_failure(autojump_clock):
    rec = Recorder(durations={"a": 1, "b": 3}, fail={"a", "e"})
    with pytest.RaisesGroup(ValueError, ValueError) as info:
        await rec.run(dag("ac", "cd", "bd", "be", "bf"), keep_going=True)
    outcome = info.value.outcome
    assert set(outcome.failed) == {"a", "e"}
    assert outcome.skipped == {"c", "d"}
    assert rec.timeline((S,)) == [(S, "c", 1), (S, "d", 1)]
    assert [e.cause for e in rec.events if e.kind == S] == ["a", "a"]
    assert rec.committed == {"b": "result-b", "f": "result-f"}
    assert outcome.results == rec.committed and not outcome.cancelled


async def test_outer_cancellation_commits_nothing_partial(autojump_clock):
    rec = Recorder(durations={"a": 1, "b": 5, "c": 5})
    with trio.move_on_after(2):
        await rec.run(dag("ab", nodes="c"))
    assert rec.committed == {"a": "result-a"}  # a finished before the cancel
    assert rec.timeline((X,)) == [(X, "b", 2), (X, "c", 2)] or rec.timeline((X,)) == [
        (X, "c", 2),
        (X, "b", 2),
    ]


async def test_cancel_during_an_async_commit_leaves_the_node_uncommitted(autojump_clock):
    committed, events = {}, []

    async def run_node(node):
        return node

    async def slow_commit(node, result):
        await trio.sleep(10)  # e.g. an upload to the remote cache
        committed[node] = result

    with trio.move_on_after(1):
        await run_dag(dag(nodes="a"), {"a"}, run_node, commit=slow_commit, on_event=events.append)
    assert committed == {}
    assert [e.kind for e in events] == [Q, R, X]


async def test_keyboard_interrupt_cancels_cleanly(autojump_clock):
    committed = {}

    async def run_node(node):
        if node == "a":
            await trio.sleep(1)
            raise KeyboardInterrupt
        await trio.sleep(10)
        return node

    with pytest.RaisesGroup(KeyboardInterrupt):
        await run_dag(
            dag(nodes="abc"), {"a", "b", "c"}, run_node, jobs=3,
            commit=lambda n, r: committed.update({n: r}),
        )  # fmt: skip
    assert trio.current_time() == 1
    assert committed == {}


async def test_a_failing_commit_fails_its_node(autojump_clock):
    async def run_node(node):
        return node

    def commit(node, result):
        raise OSError("disk full")

    with pytest.RaisesGroup(pytest.RaisesExc(OSError, match="^disk full\nwhile running node 'a'$")):
        await run_dag(dag("ab"), {"a", "b"}, run_node, commit=commit)


async def test_cached_results_are_reported_and_committed(autojump_clock):
    rec = Recorder()

    async def run_node(node):
        return Cached(f"found-{node}") if node == "a" else f"built-{node}"

    await run_dag(dag("ab"), {"a", "b"}, run_node, commit=rec.commit, on_event=rec.on_event)
    assert [(e.kind, e.node) for e in rec.events] == [
        (Q, "a"), (Q, "b"), (R, "a"), (C, "a"), (R, "b"), (D, "b"),
    ]  # fmt: skip
    assert rec.committed == {"a": "found-a", "b": "built-b"}


async def test_a_cycle_is_a_graph_error():
    async def run_node(node):
        raise AssertionError("never runs")

    with pytest.raises(GraphError, match=r"^the build graph has a cycle"):
        await run_dag(dag("ab", "ba"), {"a"}, run_node)


async def test_unknown_nodes_are_rejected():
    async def run_node(node):
        raise AssertionError("never runs")

    with pytest.raises(ValueError, match=r"^nodes to run are not in the graph: 'z'$"):
        await run_dag(dag("ab"), {"z"}, run_node)


async def test_dag_failed_supports_except_star(autojump_clock):
    rec = Recorder(fail={"a"})
    caught = []
    try:
        await rec.run(dag(nodes="a"))
    except* ValueError as group:
        caught.extend(group.exceptions)
    assert [str(e) for e in caught] == ["node a broke"]


@st.composite
def random_dags(draw):
    size = draw(st.integers(1, 12))
    edges = draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=30)
    )
    graph = nx.DiGraph()
    graph.add_nodes_from(range(size))
    graph.add_edges_from((min(u, v), max(u, v)) for u, v in edges if u != v)
    run = draw(st.sets(st.integers(0, size - 1)))
    durations = {n: draw(st.integers(1, 5)) for n in range(size)}
    jobs = draw(st.integers(1, 4))
    return graph, run, durations, jobs


@settings(max_examples=60, deadline=None)
@given(random_dags())
def test_random_dags_respect_order_and_bound(case):
    graph, run, durations, jobs = case
    rec = Recorder(durations)

    async def main():
        await rec.run(graph, nodes=run, jobs=jobs)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert set(rec.committed) == run
    assert rec.max_running <= jobs
    started = {e.node: e.time for e in rec.events if e.kind == R}
    finished = {e.node: e.time for e in rec.events if e.kind == D}
    for node in run:
        for upstream in nx.ancestors(graph, node) & run:
            assert finished[upstream] <= started[node]


CTRL_C_SCRIPT = """
import sys, networkx as nx, trio
from chutes_build.engine._scheduler import run_dag

committed, kinds = {}, []

async def run_node(node):
    if node == "a":
        return "a"
    print("running", flush=True)
    await trio.sleep(30)
    return node

async def main():
    graph = nx.DiGraph([("a", "b"), ("a", "c")])
    await run_dag(graph, {"a", "b", "c"}, run_node, jobs=2,
                  commit=lambda n, r: committed.update({n: r}),
                  on_event=lambda e: kinds.append(f"{e.kind.value}:{e.node}"))

try:
    trio.run(main)
except BaseException as exc:
    print(type(exc).__name__, repr(exc.exceptions if hasattr(exc, "exceptions") else exc))
print("committed", sorted(committed))
print("events", " ".join(sorted(kinds)))
"""


def test_a_real_ctrl_c_cancels_cleanly():
    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "running\n"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    lines = out.splitlines()
    assert lines[-3] == "BaseExceptionGroup (KeyboardInterrupt(),)"
    assert lines[-2] == "committed ['a']"  # b and c were cancelled before committing
    assert "cancelled:b" in lines[-1] and "cancelled:c" in lines[-1]
    assert "done:b" not in lines[-1] and "done:c" not in lines[-1]
