"""The README's main command end to end: scripts/up-example on (a copy of) examples/,
then the curl it prints, against a running CPU chute."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.build.conftest import free_port_base

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.docker


@pytest.fixture
def examples_copy(tmp_path, docker_engine, python_base_image):
    target = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", target, ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = target / "pyproject.toml"
    base = free_port_base(12)
    pyproject.write_text(pyproject.read_text() + f"port-base = {base}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
    env["CHUTES_BUILD_CACHE_DIR"] = str(tmp_path / "cache")
    binary = Path(sys.executable).with_name("chutes-build")
    if binary.exists():
        env["CHUTES_BUILD_BIN"] = str(binary)
    yield target, env
    subprocess.run([sys.executable, "-m", "chutes_build.cli", "down", "--target", "local"],
                   cwd=target, env=env, capture_output=True, timeout=120)  # fmt: skip


def _up_example(target: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(ROOT / "scripts" / "up-example"), str(target)], env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_up_example_prints_a_curl_that_works_and_reruns_as_a_no_op(examples_copy) -> None:
    target, env = examples_copy
    first = _up_example(target, env)
    states = dict(re.findall(r"^  (\S+)\s+(started|restarted|unchanged|needs-gpu|prebuilt)",
                             first.stdout, re.M))  # fmt: skip
    for cpu in ("typed-echo", "ticker", "csv-report", "upstream-proxy", "lifecycle"):
        assert states[cpu] == "started", first.stdout
    assert states["sd-turbo"] == "needs-gpu" and states["Qwen/Qwen2.5-0.5B-Instruct"] == "needs-gpu"
    assert states["Qwen/Qwen2.5-1.5B-Instruct"] == "prebuilt"
    for image in ("qwen-vllm:0.1.0", "bge-embeddings:0.1.0", "sd-turbo:0.1.0"):
        found = subprocess.run([env.get("CHUTES_BUILD_DOCKER") or "/usr/bin/docker", "image",
                                "inspect", image], capture_output=True)  # fmt: skip
        assert found.returncode == 0, f"the GPU chute's image {image} was built"
    curl = next(line.strip() for line in first.stdout.splitlines() if "curl " in line)
    answer = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=30)
    assert json.loads(answer.stdout) == {"text": "hello hello", "length": 11}

    _issue_14_plan_after_up_has_nothing_dirty(target, env)

    again = _up_example(target, env)
    assert "  running " not in again.stderr, again.stderr  # nothing built or restarted
    states = dict(re.findall(r"^  (\S+)\s+(\S+)", again.stdout, re.M))
    assert states["typed-echo"] == "unchanged"


def _cli(target: Path, env: dict, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "chutes_build.cli", *args], cwd=target,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _issue_14_plan_after_up_has_nothing_dirty(target: Path, env: dict) -> None:
    """Issue 14: right after a successful ``up --target local``, ``plan --json`` has 0 dirty
    nodes; the GPU chutes and the prebuilt one are their outcome, not dirty."""
    planned = _cli(target, env, "plan", "--json")
    dirty = [(n["kind"], n["label"], n["reason"]) for n in planned["nodes"]
             if n["status"] == "dirty"]  # fmt: skip
    assert dirty == [] and planned["summary"]["dirty"] == 0, dirty
    assert planned["summary"]["chute_outcomes"] == {
        "BAAI/bge-small-en-v1.5": "needs-gpu",
        "Qwen/Qwen2.5-0.5B-Instruct": "needs-gpu",
        "Qwen/Qwen2.5-1.5B-Instruct": "prebuilt",
        "sd-turbo": "needs-gpu",
    }
    why = _cli(target, env, "why", "sd-turbo", "--json")
    assert why["node"]["status"] == "outcome" and why["node"]["outcome"] == "needs-gpu"
    assert {row["status"] for row in why["inputs"]} == {"unchanged"}
