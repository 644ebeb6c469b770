"""Containers on --network=host answering HTTP, found by label, then removed."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chutes_build.core._errors import DeployError
from chutes_build.engine import (
    docker_command,
    list_containers,
    remove_containers,
    run_container,
    wait_http,
)
from tests.conftest import free_port


@pytest.fixture
def container_name(docker_engine):
    names = []

    def make() -> str:
        names.append(f"chutes-build-test-{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield make
    if names:
        import subprocess

        subprocess.run([docker_engine, "rm", "--force", *names], capture_output=True)


async def test_busybox_httpd_on_the_host_network(
    docker_client, busybox_image, container_name, tmp_path
):
    (tmp_path / "index.html").write_text("hello from a bind mount\n")
    port, key, name = free_port(), uuid.uuid4().hex, container_name()
    script = (
        "mkdir -p /tmp/www && cp /www/index.html /tmp/www/ && echo $GREETING > /tmp/www/env"
        " && (touch /www/x 2>/dev/null && echo rw || echo ro) > /tmp/www/mount"
        f" && exec httpd -f -p 127.0.0.1:{port} -h /tmp/www"
    )
    container = await run_container(
        docker_client, busybox_image, name=name, command=["sh", "-c", script],
        labels={"chutes-build.key": key, "chutes-build.chute": "echo"},
        env={"GREETING": "hi-there"}, mounts={str(tmp_path): "/www"},
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        response = await wait_http(f"{base}/index.html", timeout=30)
        assert response.text == "hello from a bind mount\n"
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/env")).text == "hi-there\n"
            assert (await client.get(f"{base}/mount")).text == "ro\n"
        (found,) = await list_containers(docker_client, {"chutes-build.key": key})
        assert (found.id, found.name, found.state) == (container, name, "running")
        assert found.labels == {"chutes-build.key": key, "chutes-build.chute": "echo"}
        assert await list_containers(docker_client, {"chutes-build.key": "other"}) == []
        assert len(await list_containers(docker_client, {"chutes-build.key": None})) >= 1
    finally:
        await remove_containers(docker_client, [name])
    assert await list_containers(docker_client, {"chutes-build.key": key}) == []
    await remove_containers(docker_client, [name])  # already gone is fine


async def test_python_http_server_in_the_python_base(
    docker_client, python_base_image, container_name
):
    port, name = free_port(), container_name()
    command = ["python3", "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    await run_container(
        docker_client, python_base_image, name=name, command=command,
        labels={"chutes-build.key": name},
    )  # fmt: skip
    try:
        response = await wait_http(f"http://127.0.0.1:{port}/", timeout=60)
        assert response.status_code == 200 and "Directory listing" in response.text
    finally:
        await remove_containers(docker_client, [name])
    assert await list_containers(docker_client, {"chutes-build.key": name}) == []


async def test_a_container_that_cannot_start_raises_deploy_error(
    docker_client, busybox_image, container_name
):
    with pytest.raises(DeployError, match=r"^`docker run --detach` failed \(exit 127\)"):
        await run_container(
            docker_client, busybox_image, name=container_name(), command=["/no/such/binary"]
        )
    assert await docker_command(docker_client, ["version", "--format", "{{.Server.Os}}"])


async def test_issue_12_labels_asked_for_by_name_are_exact_whatever_they_hold(
    docker_client, busybox_image, container_name
):
    key, name = uuid.uuid4().hex, container_name()
    chute = "café, au lait=noir кафе 日本"  # commas and '=' split `docker ps`'s label list
    await run_container(
        docker_client, busybox_image, name=name, command=["sleep", "60"], network="none",
        labels={"chutes-build.key": key, "chutes-build.chute": chute},
    )  # fmt: skip
    wanted = {"chutes-build.chute": chute}
    (found,) = await list_containers(docker_client, wanted, ["chutes-build.chute", "x.absent"])
    assert found.name == name and found.labels == {"chutes-build.chute": chute}
    (split,) = await list_containers(docker_client, {"chutes-build.key": key})
    assert split.labels["chutes-build.chute"] != chute  # why names are asked for
