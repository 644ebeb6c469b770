"""Shared test configuration.

Each test package keeps its own fixtures in its own ``conftest.py``; this one
only holds what every suite needs.
"""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real service is missing, but fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required service unavailable under CI=true: {reason}")
    pytest.skip(reason)


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def sdk_python() -> str:
    """Path of a Python that has the reference ``chutes==0.6.9`` SDK (made by scripts/sdk-venv)."""
    import subprocess

    script = os.path.join(REPO, "scripts", "sdk-venv")
    result = subprocess.run([script], capture_output=True, text=True, timeout=600)
    require(result.returncode == 0, f"scripts/sdk-venv failed: {result.stderr[-500:]}")
    return result.stdout.strip().splitlines()[-1]


# Docker engine fixtures (docker_engine, docker_client, busybox_image, python_base_image,
# new_tags), defined in tests/docker_fixtures.py,
# are shared by every suite that builds or runs images.
pytest_plugins = ["tests.docker_fixtures"]
