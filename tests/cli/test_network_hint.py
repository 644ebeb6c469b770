"""A build step that fails while the build has no network says where ``none`` was set
(the line of ``network`` in pyproject.toml) and how to change it; on the real engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.docker

PYPROJECT = """\
[project]
name = "hint"

[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
base-images = {{ "parachutes/python:3.12" = "{base}" }}
"""

CHUTE = """\
from chutes_build import Chute, Image

image = (
    Image(username="t", name="{name}", tag="1")
    .from_base("parachutes/python:3.12")
    .run_command("echo {name} && wget -q -T 1 http://127.0.0.1:9/ || exit 4")
)
chute = Chute(username="t", name="{name}", image=image)
"""


@pytest.fixture
def root(tmp_path, docker_engine, busybox_image):
    root = tmp_path / "ws"
    (root / "chutes").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(base=busybox_image))
    (root / "chutes" / "c.py").write_text(CHUTE.format(name="hint-" + uuid.uuid4().hex[:8]))
    return root


def _build(root, docker: str, *args: str, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
    env = {**base, "CHUTES_BUILD_DOCKER": docker, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "chutes_build.cli", "build", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip


def test_issue_15_a_failed_step_without_network_names_the_setting(root, docker_engine) -> None:
    proc = _build(root, docker_engine)
    assert proc.returncode == 1
    assert re.search(
        r'^  note: this build ran without network: pyproject\.toml:7 sets network = "none" in '
        r"\[tool\.chutes-build\]; a step that downloads \(apt, pip, curl, git\) fails that way\n"
        r'  fix: set network = "host" at pyproject\.toml:7 \(or pass --network host',
        proc.stderr,
        re.M,
    ), proc.stderr
    assert "Traceback" not in proc.stderr


def test_issue_15_the_hint_names_the_flag_and_travels_in_json(root, docker_engine) -> None:
    proc = _build(root, docker_engine, "--network", "none", "--json")
    summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
    error = summary["failed"][0]["error"]
    assert re.search(r"^  note: this build ran without network: --network none was given;",
                     error, re.M), error  # fmt: skip
    assert re.search(r"^  fix: pass --network host if the step needs the network", error, re.M)


def test_issue_15_no_hint_when_the_build_had_a_network(root, docker_engine) -> None:
    proc = _build(root, docker_engine, env={"CHUTES_BUILD_NETWORK": "host"})
    assert proc.returncode == 1  # nothing answers on 127.0.0.1:9 either
    assert "ran without network" not in proc.stderr
