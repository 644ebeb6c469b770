"""Replacing a chute's container against FakeDocker: the old one serves until the new
one is healthy (the real engine: tests/build/test_watch.py)."""

from __future__ import annotations

import pytest

from chutes_build.core import DeployError
from chutes_build.engine import replace_container
from chutes_build.engine.testing import FakeDocker


def _fake() -> FakeDocker:
    fake = FakeDocker()
    fake.add_container("c", "old-image")
    return fake


async def test_issue_15_the_new_container_starts_while_the_old_one_runs() -> None:
    fake, seen = _fake(), []

    async def start() -> str:
        seen.append(sorted((c.name, c.state) for c in fake.containers_by_name.values()))
        return fake.add_container("c", "new-image").id

    old = [fake.containers_by_name["c"]]
    new_id = await replace_container(fake, "c", old, start)
    assert seen == [[("c-retiring", "running")]]  # the old one served during the start
    assert fake.called("stop_container") == [("c-retiring", 10)]
    assert list(fake.containers_by_name) == ["c"]
    assert fake.containers_by_name["c"].id == new_id


async def test_issue_15_a_new_container_that_fails_leaves_the_old_one_serving() -> None:
    fake = _fake()
    old = [fake.containers_by_name["c"]]

    async def start() -> str:
        raise DeployError("chute c did not become healthy: it crashed")

    with pytest.raises(DeployError, match=r"^chute c did not become healthy"):
        await replace_container(fake, "c", old, start)
    assert fake.called("stop_container") == []
    assert [(c.name, c.state) for c in fake.containers_by_name.values()] == [("c", "running")]


async def test_issue_15_an_old_runtime_holding_the_port_alone_is_stopped_first() -> None:
    fake, tries = _fake(), []
    old = [fake.containers_by_name["c"]]

    async def start() -> str:
        tries.append(sorted(fake.containers_by_name))
        if len(tries) == 1:
            raise DeployError("... [Errno 98] Address already in use")
        return fake.add_container("c", "new-image").id

    await replace_container(fake, "c", old, start)
    assert tries == [["c-retiring"], []]
    assert list(fake.containers_by_name) == ["c"]
