"""One ``engine.run(session, target, options)`` for every target: it yields typed events
and then the summary, schedules the tasks in the graph itself, and takes a target it
has never seen (the ``Target`` protocol) as it takes the local one."""

from __future__ import annotations

import pytest

from chutes_build.core import BuildError
from chutes_build.engine import (
    Finished,
    LocalTarget,
    LogLine,
    NodeEvent,
    RunOptions,
    Session,
    Work,
    run,
    target_for,
)
from chutes_build.engine.testing import FakeDocker

from .test_local_with_fake import BASE, two_chutes


@pytest.fixture
def session(tmp_path, monkeypatch) -> Session:
    monkeypatch.delenv("CHUTES_BUILD_REMOTE_CACHE", raising=False)
    return Session(*two_chutes(tmp_path))


async def _events(session: Session, target, options: RunOptions) -> list:
    async with run(session, target, options) as events:
        return [event async for event in events]


async def test_issue_14_a_build_yields_node_events_then_the_summary(session) -> None:
    docker = FakeDocker()
    docker.add_image(BASE)
    first = await _events(session, LocalTarget(docker), RunOptions(jobs=2))
    assert isinstance(first[-1], Finished) and first[-1].summary["failed"] == []
    done = {e.node for e in first if isinstance(e, NodeEvent) and e.kind.value == "done"}
    images = {f"image:{key}" for key in session.graph.keys("image")}
    assert images <= done and any(node.startswith("layer:") for node in done)
    running = [e for e in first if isinstance(e, NodeEvent) and e.kind.value == "running"]
    assert all(e.label for e in running)  # each names what it does
    assert {row["status"] for row in first[-1].summary["images"]} == {"built"}
    assert not [e for e in first if isinstance(e, LogLine) and not e.node.startswith("layer:")]

    again = await _events(session, LocalTarget(docker), RunOptions(jobs=2))
    kinds = {e.kind.value for e in again if isinstance(e, NodeEvent)}
    assert kinds == {"cached"} and {r["status"] for r in again[-1].summary["images"]} == {
        "cached"
    }


async def test_issue_14_an_error_before_the_tasks_reaches_the_reader_as_itself(session) -> None:
    docker = FakeDocker()  # no base image: named before anything builds
    with pytest.raises(BuildError, match=rf"^base image {BASE} does not exist"):
        await _events(session, LocalTarget(docker), RunOptions())
    assert docker.builds == []


class _Announce:
    """A third target: one task per deploy node, run in the graph's order."""

    name = "announce"

    def __init__(self) -> None:
        self.order: list[str] = []
        self.opened = False

    async def open(self, run) -> None:
        self.opened = True

    def lookup_keys(self, run) -> list[str]:
        return []

    async def plan(self, run) -> Work:
        work = Work(run.session.graph)
        for image in run.session.graph.keys("image"):
            work.add(image, f"announce {image[:8]}", self._note(image))
        for key in run.session.graph.keys("deploy"):
            work.add(key, f"announce {run.session.graph.node(key).chute}", self._note(key))
        return work

    def _note(self, key: str):
        async def task() -> str:
            self.order.append(key)
            return key

        return task

    def dry_run(self, run, work: Work) -> dict:
        return {"dry_run": True, "would_run": [work.node_id(k) for k in work.tasks]}

    async def finish(self, run, work: Work, outcome, summary: dict) -> None:
        summary["announced"] = sorted(outcome.results)


async def test_issue_14_a_new_target_plugs_in_and_runs_in_graph_order(session) -> None:
    target = _Announce()
    events = await _events(session, target, RunOptions(target="announce"))
    graph = session.graph
    assert target.opened and events[-1].summary["failed"] == []
    assert events[-1].summary["announced"] == sorted(graph.keys("image") + graph.keys("deploy"))
    for key in graph.keys("deploy"):  # each chute after its image: the graph's edge
        assert target.order.index(graph.node(key).image) < target.order.index(key)
    dry = await _events(session, _Announce(), RunOptions(dry_run=True))
    assert dry[-1].summary["would_run"][0].startswith("image:") and len(dry) == 1


def test_issue_14_an_unknown_target_is_refused_with_the_fix() -> None:
    with pytest.raises(BuildError, match=r"^unknown target 'registry'\n") as info:
        target_for("registry")
    assert info.value.fix == "use --target local or --target chutes"
