"""Builds against the real engine's BuildKit, from the local busybox base."""

from __future__ import annotations

import os
import re
import uuid

import networkx as nx
import pytest
import trio

from chutes_build.core._errors import BuildError
from chutes_build.engine import BuildRequest, build, docker_command, existing_images
from chutes_build.engine._scheduler import run_dag


def nonce() -> str:
    return uuid.uuid4().hex


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (containers' processes included)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if text.encode() in file.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


async def run_in(docker, image: str, *command: str) -> str:
    return await docker_command(docker, ["run", "--rm", "--network=none", image, *command])


async def test_a_chain_is_one_build_and_is_tagged(docker_client, busybox_image, new_tags):
    end, branch = new_tags(2)
    marker = nonce()
    lines = [f"RUN echo {marker} > /one", "RUN cat /one > /two", "RUN echo three > /three"]
    log: list[str] = []
    request = BuildRequest(
        parent=busybox_image, lines=lines, tag=end, branch_tags={branch: 1}, network="none"
    )
    result = await build(docker_client, request, on_line=log.append)
    assert result.log == "\n".join(log)
    chain_build, branch_build = result.log.split("load build definition")[1:]
    for step in ("[2/4] RUN echo", "[3/4] RUN cat /one", "[4/4] RUN echo three"):
        assert step in chain_build  # the three lines ran in the first build
    assert "[2/2] RUN echo" in branch_build and "CACHED" in branch_build
    found = await existing_images(docker_client, [end, branch])
    assert found == {end: result.image_id, branch: result.tags[branch]}
    assert result.tags[end] == result.image_id != result.tags[branch]
    assert (await run_in(docker_client, end, "sh", "-c", "cat /two /three")).split() == [
        marker,
        "three",
    ]
    assert (await run_in(docker_client, branch, "sh", "-c", "ls /")).split().count("two") == 0


async def test_the_context_holds_only_the_given_files(
    docker_client, busybox_image, new_tags, tmp_path
):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('app')\n")
    (tmp_path / "elsewhere.txt").write_text("data\n")
    (tmp_path / "secret.env").write_text("TOKEN=do-not-send\n")  # not named: not sent
    context = {
        "app/app.py": str(tmp_path / "src" / "app.py"),
        "app/data/x.txt": str(tmp_path / "elsewhere.txt"),
    }
    lines = ["COPY . /ctx", f"RUN echo {nonce()} && cd /ctx && find . | sort"]
    (tag,) = new_tags()
    request = BuildRequest(busybox_image, lines, tag, context=context, network="none")
    result = await build(docker_client, request)
    listed = await run_in(docker_client, tag, "sh", "-c", "cd /ctx && find . | sort")
    assert listed.split() == [".", "./app", "./app/app.py", "./app/data", "./app/data/x.txt"]
    assert "[3/3] RUN" in result.log
    assert await run_in(docker_client, tag, "cat", "/ctx/app/data/x.txt") == "data\n"


async def test_a_context_path_escaping_the_context_is_refused(busybox_image):
    with pytest.raises(BuildError, match=r"^invalid build context path '\.\./x'"):
        BuildRequest(parent=busybox_image, lines=["RUN true"], tag="t:x", context={"../x": "/x"})


async def test_a_missing_context_file_is_named(docker_client, busybox_image, new_tags, tmp_path):
    (tag,) = new_tags()
    gone = str(tmp_path / "gone.txt")
    request = BuildRequest(busybox_image, ["COPY a /a"], tag, context={"a": gone})
    with pytest.raises(BuildError, match=rf"^build context file {gone} \(for 'a'\) does not exist"):
        await build(docker_client, request)


async def test_the_default_network_fails_with_a_fix_on_a_bridgeless_engine(
    docker_client, busybox_image, new_tags
):
    (tag,) = new_tags()
    request = BuildRequest(busybox_image, [f"RUN echo {nonce()}"], tag)  # network: default
    try:
        await build(docker_client, request)
    except BuildError as exc:
        assert "network bridge not found" in str(exc)
        assert exc.fix.startswith("the engine has no bridge network")
    else:  # an engine with its bridge network builds it
        assert await existing_images(docker_client, [tag])


async def test_a_failing_step_raises_with_the_end_of_the_log(
    docker_client, busybox_image, new_tags
):
    (tag,) = new_tags()
    marker = nonce()
    lines = ["RUN echo fine", f"RUN echo broken-{marker} >&2; exit 3"]
    request = BuildRequest(parent=busybox_image, lines=lines, tag=tag, network="none")
    with pytest.raises(
        BuildError, match=rf"^building {tag} failed \(docker exit status 1\)"
    ) as info:
        await build(docker_client, request)
    message = str(info.value)
    assert f"broken-{marker}" in message and "exit code: 3" in message
    assert "the step marked ERROR above failed" in info.value.fix
    # the whole log is kept, from BuildKit's first step (which of its first two
    # internal steps it prints first varies from run to run)
    assert re.match(r"#[12] \[internal\] load ", info.value.log)
    assert "#1 [internal] load build definition" in info.value.log
    assert await existing_images(docker_client, [tag]) == {}


async def test_cancelling_a_build_kills_it_and_tags_nothing(docker_client, busybox_image, new_tags):
    (tag,) = new_tags()
    marker = nonce()
    request = BuildRequest(
        parent=busybox_image, lines=[f"RUN sleep 30 && echo {marker}"], tag=tag, network="none"
    )
    step_started = trio.Event()

    def on_line(line: str) -> None:
        if "RUN sleep 30" in line:
            step_started.set()

    # Hang guard only: a build that ignored the cancel would take the full 30 s.
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: build(docker_client, request, on_line=on_line))
            await step_started.wait()
            while not processes_mentioning(marker):  # the RUN's shell is up
                await trio.sleep(0.05)
            assert processes_mentioning(tag)  # the docker client process
            nursery.cancel_scope.cancel()
        assert processes_mentioning(tag) == []  # the client's group is gone at once
        while processes_mentioning(marker):  # the engine then stops the step
            await trio.sleep(0.05)
    assert await existing_images(docker_client, [tag]) == {}


async def test_a_failing_sibling_in_the_scheduler_cancels_a_running_build(
    docker_client, busybox_image, new_tags
):
    slow_tag, bad_tag = new_tags(2)
    marker = nonce()
    requests = {
        "slow": BuildRequest(
            busybox_image, [f"RUN sleep 30 && echo {marker}"], slow_tag, network="none"
        ),
        "bad": BuildRequest(
            busybox_image, [f"RUN echo {marker}-bad; exit 1"], bad_tag, network="none"
        ),
    }
    graph = nx.DiGraph([("slow", "after")])
    graph.add_node("bad")
    slow_running = trio.Event()
    committed, events = {}, []

    def watch(line: str) -> None:
        if "RUN sleep 30" in line:
            slow_running.set()

    async def run_node(node):
        if node == "bad":
            await slow_running.wait()
            while not processes_mentioning(marker):
                await trio.sleep(0.05)
        return await build(docker_client, requests[node], on_line=watch)

    with trio.fail_after(20):  # hang guard: the slow build alone takes 30 s
        with pytest.RaisesGroup(pytest.RaisesExc(BuildError, match=rf"^building {bad_tag} failed")):
            await run_dag(
                graph, {"slow", "bad", "after"}, run_node, jobs=2,
                commit=lambda n, r: committed.update({n: r}), on_event=events.append,
            )  # fmt: skip
        while processes_mentioning(marker):  # the engine stops the cancelled step
            await trio.sleep(0.05)
    assert committed == {}
    assert {(e.kind.value, e.node) for e in events if e.kind.value != "queued"} == {
        ("running", "slow"), ("running", "bad"), ("failed", "bad"),
        ("cancelled", "slow"), ("skipped", "after"),
    }  # fmt: skip
    assert await existing_images(docker_client, [slow_tag, bad_tag]) == {}


async def test_issue_12_a_build_no_engine_answers_asks_to_start_it_a_failed_step_does_not(
    docker_client, busybox_image, new_tags, tmp_path, monkeypatch
):
    (tag,) = new_tags()
    request = BuildRequest(parent=busybox_image, lines=["RUN exit 3"], tag=tag, network="none")
    with pytest.raises(BuildError, match=rf"^building {tag} failed") as info:
        await build(docker_client, request)
    assert "docker-up" not in info.value.fix
    assert info.value.fix.startswith("the step marked ERROR above failed")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(
        BuildError, match=rf"^building {tag} failed .*\n.*[Cc]annot connect"
    ) as info:
        await build(docker_client, request)
    assert info.value.fix.startswith("start the engine with scripts/docker-up")
