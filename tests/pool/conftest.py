"""Fixtures for the pool: a real registry and extra Docker engines, started by scripts.

``registry`` runs Debian's docker-registry on 127.0.0.1 (scripts/registry) for the
session; ``extra_engine`` starts engines beside the machine's own (scripts/dockerd-extra),
each under a short folder of its own, and stops every one it started when the test ends.
Under ``CI=true`` a registry or engine that cannot start fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port, require, run_cli
from tests.docker_fixtures import _script

PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
registry = "{registry}/{prefix}"
"""

CHUTE = """\
from chutes_build import Chute, Image

image = Image(username="t", name="{name}", tag="1").from_base("chutes-build/busybox:latest")
{steps}
chute = Chute(username="t", name="{name}", image=image)
"""


@dataclass
class ExtraEngine:
    name: str
    host: str  # unix://...
    folder: str
    docker: str  # the client's path

    @property
    def spec(self) -> str:
        return f"{self.name}={self.host}"

    def docker_cmd(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "DOCKER_HOST": self.host}
        return subprocess.run([self.docker, *args], capture_output=True, text=True, env=env,
                              timeout=300)  # fmt: skip

    def pid(self) -> int:
        return int(Path(self.folder, "dockerd.pid").read_text())


@pytest.fixture(scope="session")
def registry(docker_engine: str):
    """``127.0.0.1:PORT`` of a registry that lives for the session."""
    folder = tempfile.mkdtemp(prefix="cb-registry-")
    started = _script("registry", "start", str(free_port()), folder, timeout=600)
    require(started.returncode == 0, f"scripts/registry failed: {started.stderr[-2000:]}")
    yield started.stdout.split()[-1]
    _script("registry", "stop", folder, timeout=60)
    shutil.rmtree(folder, ignore_errors=True)


def _unmount_below(folder: str) -> None:
    """Mounts an engine killed with SIGKILL left under ``folder``."""
    with open("/proc/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(folder)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


@pytest.fixture
def extra_engine(docker_engine: str, busybox_image: str):
    """Start an empty engine: ``extra_engine("a")`` -> :class:`ExtraEngine`."""
    started: list[ExtraEngine] = []

    def start(name: str) -> ExtraEngine:
        folder = tempfile.mkdtemp(prefix=f"cbe-{name}-", dir="/tmp")
        result = _script("dockerd-extra", "start", name, folder, timeout=300)
        require(result.returncode == 0, f"scripts/dockerd-extra failed: {result.stderr[-2000:]}")
        engine = ExtraEngine(name, result.stdout.split()[-1], folder, docker_engine)
        started.append(engine)
        return engine

    yield start
    for engine in started:
        _script("dockerd-extra", "stop", engine.folder, timeout=120)
        _unmount_below(engine.folder)
        shutil.rmtree(engine.folder, ignore_errors=True)


@dataclass
class PoolWorkspace:
    root: Path
    registry: str
    prefix: str

    def chute(self, name: str, *steps: str) -> None:
        lines = "\n".join(f"image = image.run_command({step!r})" for step in steps)
        (self.root / "chutes" / f"{name}.py").write_text(CHUTE.format(name=name, steps=lines))

    def ref(self, name: str) -> str:
        return f"{self.registry}/{self.prefix}/{name}:1"

    def build(self, *engines: ExtraEngine | str, extra=()) -> tuple[dict, list[dict]]:
        """``chutes-build build --json`` on ``engines`` (or specs): the summary and events."""
        builders = ",".join(e if isinstance(e, str) else e.spec for e in engines)
        result = run_cli(["build", "--json", "--builders", builders, *extra], cwd=self.root)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        assert lines and "summary" in lines[-1], result.stdout + result.stderr
        return lines[-1]["summary"], lines[:-1]


@pytest.fixture
def pool_workspace(tmp_path: Path, registry: str) -> PoolWorkspace:
    """A workspace whose registry prefix is its own (so each test starts cold)."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    (tmp_path / "chutes").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(registry=registry, prefix=prefix))
    return PoolWorkspace(tmp_path, registry, prefix)


def engine_row(summary: dict, name: str) -> dict:
    return next(row for row in summary["pool"]["engines"] if row["name"] == name)

