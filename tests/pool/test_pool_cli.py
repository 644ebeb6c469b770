"""Issue 17: mistakes in the pool's settings get an error and a fix, never a traceback."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import free_port, run_cli

PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
"""
CHUTE = """\
from chutes_build import Chute, Image
image = Image(username="t", name="x", tag="1").from_base("chutes-build/busybox:latest")
image = image.run_command("echo x > /x")
chute = Chute(username="t", name="x", image=image)
"""


@pytest.fixture
def workspace(tmp_path, docker_engine, busybox_image):
    (tmp_path / "chutes").mkdir()
    (tmp_path / "chutes" / "x.py").write_text(CHUTE)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


def _error(workspace, *args: str, env=None) -> str:
    result = run_cli(["build", *args], cwd=workspace, env=env)
    assert result.code == 1, result.stdout
    assert "Traceback" not in result.stderr
    return result.stderr


def test_issue_17_a_malformed_registry_names_the_setting_and_the_form(workspace):
    text = _error(workspace, "--registry", "nonsense")
    assert re.match(r"^error: invalid registry 'nonsense' in --registry\n  fix: write it as "
                    r"HOST:PORT/PREFIX", text)  # fmt: skip


def test_issue_17_a_registry_that_does_not_answer_is_reported_before_any_build(workspace):
    port = free_port()
    text = _error(workspace, "--registry", f"127.0.0.1:{port}/cb")
    assert re.match(rf"^error: registry 127\.0\.0\.1:{port} does not answer: .*\n  fix: check "
                    r"that the registry runs", text)  # fmt: skip


def test_issue_17_engines_that_do_not_answer_are_named(workspace, registry, tmp_path):
    dead = f"dead=unix://{tmp_path}/none.sock"
    text = _error(workspace, "--registry", f"{registry}/cb", "--builders", dead)
    assert re.match(r"^error: no engine of the pool answers \(dead: .*\)\n  fix: start the "
                    r"engines", text)  # fmt: skip


def test_issue_17_builders_from_the_environment_need_a_registry(workspace):
    env = {**os.environ, "CHUTES_BUILD_BUILDERS": "a=unix:///x.sock"}
    env.pop("CHUTES_BUILD_REGISTRY", None)
    text = _error(workspace, env=env)
    assert re.match(r"^error: builders are set \(\$CHUTES_BUILD_BUILDERS\) but no registry is\n",
                    text)  # fmt: skip
