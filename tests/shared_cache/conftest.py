"""A real nginx WebDAV cache (scripts/nginx-cache) and the stand-in platform."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, require
from tests.platform.standin import StandInState, running_standin

SCRIPT = os.path.join(REPO, "scripts", "nginx-cache")
TEAM_KEY = "shared-team-key-0123456789abcdef"


@pytest.fixture
def nginx(tmp_path_factory):
    """``(url, data folder)`` of a fresh nginx cache, stopped afterwards."""
    has_nginx = bool(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"))
    require(has_nginx or bool(shutil.which("apt-get")), "nginx is not installed")
    data = tmp_path_factory.mktemp("nginx-cache")
    result = subprocess.run(
        [SCRIPT, "start", str(free_port()), str(data)], capture_output=True, text=True, timeout=300
    )
    require(result.returncode == 0, f"scripts/nginx-cache failed: {result.stderr[-800:]}")
    yield result.stdout.strip().splitlines()[-1], Path(data)
    subprocess.run([SCRIPT, "stop", str(data)], timeout=60, check=False)


@pytest.fixture
def standin():
    with running_standin(StandInState(build_mode="immediate")) as server:
        yield server
