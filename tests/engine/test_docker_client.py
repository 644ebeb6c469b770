"""Choosing a docker client by what it can do, and the batched existence check."""

from __future__ import annotations

import os
import stat

import pytest

from chutes_build.core._errors import BuildError
from chutes_build.engine import DockerClient, docker_command, existing_images, find_docker

BROKEN_CLIENT = "/usr/local/bin/docker"  # this machine's 28.x client, without buildx


def fake_client(folder, body: str) -> str:
    path = os.path.join(folder, "docker")
    with open(path, "w") as file:
        file.write(f"#!/bin/sh\n{body}\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path



async def test_detection_picks_a_client_that_builds(docker_client):
    found = await find_docker(None)
    assert found == docker_client
    assert found.mode in ("buildx", "buildkit")
    if found.mode == "buildkit" and os.path.exists(BROKEN_CLIENT):
        # The first docker on PATH here cannot build; the choice skipped it.
        assert os.path.realpath(found.path) != os.path.realpath(BROKEN_CLIENT)


async def test_a_client_that_cannot_build_is_refused_with_its_error(docker_client):
    if not os.path.exists(BROKEN_CLIENT):
        pytest.skip(f"{BROKEN_CLIENT} (a docker client without buildx) is not on this machine")
    with pytest.raises(BuildError, match=r"^no docker client here can build with BuildKit; tried "):
        await find_docker(BROKEN_CLIENT)


async def test_the_override_is_used_when_it_builds(docker_client, tmp_path):
    calls = tmp_path / "calls"
    wrapper = fake_client(tmp_path, f'echo "$1" >> {calls}\nexec {docker_client.path} "$@"')
    found = await find_docker(wrapper)
    assert found.path == wrapper and found.mode == docker_client.mode
    probes = calls.read_text()
    assert await find_docker(wrapper) == found
    assert calls.read_text() == probes  # the probe result is cached per process


async def test_a_silent_engine_asks_for_docker_up(tmp_path):
    silent = fake_client(
        tmp_path, "echo 'Cannot connect to the Docker daemon at unix:///x' >&2; exit 1"
    )
    with pytest.raises(
        BuildError, match=r"^the Docker engine does not answer: Cannot connect"
    ) as info:
        await find_docker(silent)
    assert "scripts/docker-up" in info.value.fix


async def test_a_missing_override_is_named(tmp_path):
    with pytest.raises(BuildError, match=r"^the docker client '/nowhere/docker' named by"):
        await find_docker("/nowhere/docker")


async def test_buildx_is_preferred_when_the_plugin_answers(tmp_path):
    path = fake_client(tmp_path, '[ "$1 $2" = "buildx version" ] && exit 0; exit 1')
    found = await find_docker(path, builder="remote-k8s")
    assert found == DockerClient(path, "buildx", "remote-k8s")
    assert found.build_argv() == [path, "buildx", "build", "--load", "--builder", "remote-k8s"]


async def test_existence_check_is_one_engine_call(docker_client, busybox_image, tmp_path):
    calls = tmp_path / "calls"
    wrapper = fake_client(tmp_path, f'echo "$*" >> {calls}\nexec {docker_client.path} "$@"')
    docker = DockerClient(wrapper, docker_client.mode)
    refs = [busybox_image, "chutes-build/busybox", "chutes-build/layer:does-not-exist"]
    refs += [f"chutes-build/layer:missing-{n}" for n in range(200)]
    found = await existing_images(docker, refs)
    assert set(found) == {busybox_image, "chutes-build/busybox"}
    assert found[busybox_image].startswith("sha256:")
    assert calls.read_text().count("\n") == 1
    assert await existing_images(docker, []) == {}


async def test_issue_12_a_failure_with_the_engine_running_shows_its_message_and_fitting_fix(
    docker_client,
):
    with pytest.raises(
        BuildError,
        match=r"^`docker tag chutes-build/layer:no-such-layer` failed \(exit 1\): "
        r"Error response from daemon: No such image: chutes-build/layer:no-such-layer",
    ) as info:
        await docker_command(
            docker_client, ["tag", "chutes-build/layer:no-such-layer", "chutes-build/test:x"]
        )
    assert "docker-up" not in info.value.fix
    assert info.value.fix.startswith("the image is gone from the engine: run `chutes-build up`")
    with pytest.raises(BuildError, match=r"^`docker inspect --format` failed \(exit 1\): ") as info:
        await docker_command(docker_client, ["inspect", "--format", "{{.Nope}}", "busybox-x"])
    assert info.value.fix.startswith("the engine's message above says what failed; ")


async def test_issue_12_only_an_engine_that_does_not_answer_gets_docker_up(
    docker_client, tmp_path, monkeypatch
):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(
        BuildError, match=r"^`docker image ls` failed \(exit 1\): Cannot connect"
    ) as info:
        await docker_command(docker_client, ["image", "ls"])
    assert info.value.fix.startswith("start the engine with scripts/docker-up")
