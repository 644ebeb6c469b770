"""One suite, three ``DockerEngine`` implementations: the in-memory fake, the CLI and
the Engine API over the real engine's socket. What the fake answers is what the real
engine answers, so unit tests written against the fake hold against the engine."""

from __future__ import annotations

import uuid

import pytest

from chutes_build.core import BuildError, DeployError
from chutes_build.engine import ApiDocker, DockerEngine, connect_docker
from chutes_build.engine.testing import FakeDocker

BUSYBOX = "chutes-build/busybox:latest"


@pytest.fixture(params=["fake", pytest.param("cli", marks=pytest.mark.docker),
                        pytest.param("api", marks=pytest.mark.docker)])  # fmt: skip
def engine(request) -> DockerEngine:
    if request.param == "fake":
        fake = FakeDocker()
        fake.add_image(BUSYBOX)
        fake.run_outputs[BUSYBOX] = "probe ok\n"
        return fake
    request.getfixturevalue("busybox_image")
    client = request.getfixturevalue("docker_client")
    if request.param == "cli":
        return client
    api = connect_docker(client)
    assert isinstance(api, ApiDocker), "the engine started by scripts/docker-up has a socket"
    return api


@pytest.fixture
def names(engine):
    made: list[str] = []

    def make(kind: str = "test") -> str:
        made.append(f"chutes-build-{kind}-{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    tags = [n.replace("chutes-build-tag-", "chutes-build/test:") for n in made if "-tag-" in n]
    import trio

    async def tidy() -> None:
        await engine.remove_containers([n for n in made if "-tag-" not in n])
        await engine.remove_images(tags)

    trio.run(tidy)


def _tag(names) -> str:
    return names("tag").replace("chutes-build-tag-", "chutes-build/test:")


async def test_image_ids_answer_which_refs_exist_in_one_query(engine) -> None:
    refs = [BUSYBOX, "chutes-build/busybox", "chutes-build/layer:does-not-exist"]
    found = await engine.image_ids(refs)
    assert set(found) == {BUSYBOX, "chutes-build/busybox"}
    assert found[BUSYBOX].startswith("sha256:") and found[BUSYBOX] == found["chutes-build/busybox"]
    assert await engine.image_ids([]) == {}


async def test_tag_list_inspect_and_remove_round_trip(engine, names) -> None:
    first, second = _tag(names), _tag(names)
    await engine.tag_image(BUSYBOX, first)
    await engine.tag_image(first, second)
    assert {first, second} <= await engine.image_tags(["chutes-build/test"])
    assert BUSYBOX not in await engine.image_tags(["chutes-build/test"])
    record = await engine.inspect_image(second)
    assert record is not None and record["Id"] == (await engine.image_ids([BUSYBOX]))[BUSYBOX]
    await engine.remove_images([first, "chutes-build/test:never-made"])
    assert await engine.image_ids([first, second]) == {second: record["Id"]}
    assert await engine.inspect_image(first) is None
    assert BUSYBOX in await engine.image_ids([BUSYBOX])  # untagging kept the image


async def test_issue_12_tagging_a_missing_image_names_it_and_the_fix(engine) -> None:
    with pytest.raises(
        BuildError,
        match=r"^`docker tag chutes-build/layer:no-such-layer` failed \((exit 1|HTTP 404)\): "
        r"Error response from daemon: No such image: chutes-build/layer:no-such-layer",
    ) as info:
        await engine.tag_image("chutes-build/layer:no-such-layer", "chutes-build/test:x")
    assert info.value.fix.startswith("the image is gone from the engine: run `chutes-build up`")


async def test_a_container_is_found_by_label_inspected_and_removed(engine, names) -> None:
    name, mark = names(), uuid.uuid4().hex
    labels = {"chutes-build.test": mark, "chutes-build.odd": "a,b=c,кафе", "other": "x"}
    ident = await engine.run_container(BUSYBOX, name=name, command=["sleep", "60"],
                                       labels=labels, network="none")  # fmt: skip
    found = await engine.containers({"chutes-build.test": mark, "chutes-build.odd": None},
                                    ["chutes-build.test", "chutes-build.odd", "missing"])
    assert [(c.id, c.name, c.image, c.state) for c in found] == [(ident, name, BUSYBOX, "running")]
    assert found[0].labels == {"chutes-build.test": mark, "chutes-build.odd": "a,b=c,кафе"}
    [record] = await engine.inspect_containers([ident, "chutes-build-gone-0000"])
    assert record["Id"] == ident and record["State"]["Running"] is True
    assert record["State"]["StartedAt"][:2] == "20"
    assert await engine.container_running(name)
    await engine.remove_containers([name, "chutes-build-gone-0000"])
    assert await engine.containers({"chutes-build.test": mark}) == []
    assert not await engine.container_running(name)
    assert await engine.inspect_containers([ident]) == []


async def test_a_taken_name_and_a_missing_image_are_deploy_errors(engine, names) -> None:
    name = names()
    await engine.run_container(BUSYBOX, name=name, command=["sleep", "60"], network="none")
    with pytest.raises(DeployError, match=r"^`docker run --detach(?: --name)?` failed .*"
                       r"is already in use by container") as info:  # fmt: skip
        await engine.run_container(BUSYBOX, name=name, command=["sleep", "1"], network="none")
    assert info.value.fix.startswith("remove the container holding that name")
    with pytest.raises(DeployError, match=r"^`docker run --detach(?: --name)?` failed"):
        await engine.run_container("chutes-build/test:no-such-image-here", name=names(),
                                   network="none")  # fmt: skip


async def test_run_once_returns_what_the_command_printed(engine) -> None:
    if isinstance(engine, FakeDocker):
        out = await engine.run_once(BUSYBOX, ["-c", "echo probe ok"], entrypoint="sh")
    else:
        out = await engine.run_once(BUSYBOX, ["-c", "echo probe ok; echo noise >&2"],
                                    entrypoint="sh")  # fmt: skip
    assert out == "probe ok\n"
    with pytest.raises(BuildError, match=r"^`docker run --rm` failed"):
        await engine.run_once("chutes-build/test:no-such-image-here", ["true"])
