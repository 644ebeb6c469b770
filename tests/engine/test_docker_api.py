"""The Engine API client against the real engine: no process per query, logs as the CLI
shows them, and the CLI wherever the socket cannot be used."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
import trio

from chutes_build.core import DeployError
from chutes_build.engine import (
    ApiDocker,
    DockerClient,
    _docker_socket,
    connect_docker,
    engine_socket,
)
from chutes_build.engine._engines import EngineClient

BUSYBOX = "chutes-build/busybox:latest"


def _listening(path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return sock


def _logging_client(tmp_path, docker_client: DockerClient) -> tuple[DockerClient, object]:
    calls = tmp_path / "calls"
    wrapper = tmp_path / "docker"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {docker_client.path} "$@"\n')
    wrapper.chmod(0o755)
    return DockerClient(str(wrapper), docker_client.mode), calls


async def test_queries_start_no_docker_process(docker_client, busybox_image, tmp_path) -> None:
    client, calls = _logging_client(tmp_path, docker_client)
    api = connect_docker(client)
    assert isinstance(api, ApiDocker)
    found = await api.image_ids([busybox_image, "chutes-build/layer:missing"])
    assert set(found) == {busybox_image}
    assert await api.containers({"chutes-build.test": uuid.uuid4().hex}) == []
    assert await api.inspect_containers(["chutes-build-gone-0000"]) == []
    assert busybox_image in await api.image_tags(["chutes-build/busybox"])
    assert not calls.exists()
    await client.image_ids([busybox_image])  # the same client through the CLI: one process
    assert calls.read_text().splitlines()[0].startswith("image ls ")


@pytest.mark.parametrize("kind", ["cli", "api"])
async def test_logs_replay_both_streams_follow_to_the_end_and_tail(
    kind, docker_client, busybox_image
) -> None:
    engine = connect_docker(docker_client) if kind == "api" else docker_client
    name = f"chutes-build-test-{uuid.uuid4().hex[:12]}"
    script = "echo one; sleep 0.2; echo two >&2; sleep 0.2; printf 'three\\nfour\\n'"
    try:
        await engine.run_container(busybox_image, name=name, command=["sh", "-c", script],
                                   network="none")  # fmt: skip
        chunks: list[bytes] = []
        with trio.fail_after(60):
            await engine.stream_log(name, chunks.append, follow=True)
        assert b"".join(chunks).decode().splitlines() == ["one", "two", "three", "four"]
        assert await engine.container_log(name, 2) == "three\nfour\n"
        tail: list[bytes] = []
        await engine.stream_log(name, tail.append, tail=1)
        assert b"".join(tail) == b"four\n"
        assert not await engine.container_running(name)
    finally:
        await engine.remove_containers([name])
    assert await engine.container_log(name, 5) == ""
    with pytest.raises(DeployError, match=rf"^`docker logs {name}` failed \((exit 1|HTTP 404)\): "
                       r"Error(?: response from daemon)?: No such container") as info:  # fmt: skip
        await engine.stream_log(name, lambda chunk: None)
    assert info.value.fix.startswith("check the engine with `docker info`")


async def test_a_socket_that_stops_answering_falls_back_to_the_cli(
    docker_client, busybox_image, tmp_path
) -> None:
    with _listening(tmp_path / "dead.sock"):  # bound, never listening: connections refused
        api = ApiDocker(docker_client, str(tmp_path / "dead.sock"))
        found = await api.image_ids([busybox_image])
    assert found == await docker_client.image_ids([busybox_image]) and api.down


def test_connect_keeps_the_cli_where_the_socket_cannot_be_used(tmp_path, monkeypatch) -> None:
    with _listening(tmp_path / "engine.sock"):
        local = DockerClient("/usr/bin/docker", "buildkit")
        for host in ("ssh://builder@example.invalid", "tcp://127.0.0.1:2376",
                     f"unix://{tmp_path}/missing.sock"):  # fmt: skip
            engine = EngineClient(local.path, local.mode, host=host)
            assert connect_docker(engine) is engine, host
        engine = EngineClient(local.path, local.mode, host=f"unix://{tmp_path}/engine.sock")
        api = connect_docker(engine)
        assert isinstance(api, ApiDocker) and api.socket == f"{tmp_path}/engine.sock"
        assert connect_docker(engine, api=False) is engine
        assert api.build_argv() == engine.build_argv() and api.env() == engine.env()


def test_the_socket_is_found_as_the_cli_finds_its_engine(tmp_path, monkeypatch) -> None:
    import hashlib

    config = tmp_path / "config"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"remote").hexdigest()
    meta.mkdir(parents=True)
    with _listening(tmp_path / "a.sock"), _listening(tmp_path / "b.sock"):
        monkeypatch.setattr(_docker_socket, "DEFAULT_SOCKET", str(tmp_path / "a.sock"))
        meta.joinpath("meta.json").write_text(json.dumps(
            {"Name": "remote", "Endpoints": {"docker": {"Host": f"unix://{tmp_path}/b.sock"}}}
        ))  # fmt: skip
        base = {"DOCKER_CONFIG": str(config)}
        assert engine_socket(base) == str(tmp_path / "a.sock")
        assert engine_socket({**base, "DOCKER_HOST": f"unix://{tmp_path}/b.sock"}) == str(
            tmp_path / "b.sock"
        )
        assert engine_socket({**base, "DOCKER_CONTEXT": "remote"}) == str(tmp_path / "b.sock")
        assert engine_socket({**base, "DOCKER_CONTEXT": "default"}) == str(tmp_path / "a.sock")
        assert engine_socket({**base, "DOCKER_CONTEXT": "unknown"}) is None
        config.joinpath("config.json").write_text(json.dumps({"currentContext": "remote"}))
        assert engine_socket(base) == str(tmp_path / "b.sock")
        (config / "contexts" / "tls" / meta.name / "docker").mkdir(parents=True)
        assert engine_socket(base) is None  # TLS material: the CLI speaks TLS, not us
        assert engine_socket({**base, "DOCKER_HOST": "tcp://127.0.0.1:2375"}) is None
