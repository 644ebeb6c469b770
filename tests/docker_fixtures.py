"""Docker fixtures: a real engine, started by scripts/docker-up, and local base images.

Under ``CI=true`` an engine or image that cannot be made fails the test (through
``tests.conftest.require``); locally the test is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import trio

from chutes_build.engine import DockerClient, find_docker
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def _script(name: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [str(SCRIPTS / name), *args], capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess([name], 1, "", f"{type(exc).__name__}: {exc}")


@pytest.fixture(scope="session")
def docker_client() -> DockerClient:
    """The client chutes-build picks (after scripts/docker-up started the engine)."""
    up = _script("docker-up", timeout=600)
    require(up.returncode == 0, f"scripts/docker-up failed: {up.stderr.strip()[-2000:]}")
    try:
        return trio.run(find_docker, os.environ.get("CHUTES_BUILD_DOCKER"))
    except Exception as exc:  # BuildError: no client can build
        require(False, f"no docker client builds with BuildKit: {exc}")
        raise


@pytest.fixture(scope="session")
def docker_engine(docker_client: DockerClient) -> str:
    """Start the engine (scripts/docker-up) and return the path of the docker client."""
    return docker_client.path


def _base_image(which: str, timeout: float) -> str:
    made = _script("base-images", which, timeout=timeout)
    require(made.returncode == 0, f"scripts/base-images {which} failed: {made.stderr[-2000:]}")
    return made.stdout.split()[-1]


@pytest.fixture(scope="session")
def busybox_image(docker_engine: str) -> str:
    """chutes-build/busybox:latest (made in under a second when missing)."""
    return _base_image("busybox", timeout=300)


@pytest.fixture(scope="session")
def python_base_image(docker_engine: str) -> str:
    """chutes-build/python-base:bookworm (about a minute the first time; cached by tag)."""
    return _base_image("python", timeout=900)


@pytest.fixture
def new_tags(docker_engine: str):
    """Make unique ``chutes-build/test:...`` tags; remove them (and their images) after."""
    made: list[str] = []

    def make(count: int = 1) -> list[str]:
        tags = [f"chutes-build/test:{uuid.uuid4().hex[:16]}" for _ in range(count)]
        made.extend(tags)
        return tags

    yield make
    if made:
        subprocess.run([docker_engine, "rmi", "--force", *made], capture_output=True)
