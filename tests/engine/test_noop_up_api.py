"""Issue 16: through the Engine API, a no-op ``up`` (and ``ps``, ``down``, a restart)
starts no ``docker`` process. The workspace's client is a wrapper that logs each
invocation, so any process the CLI started would show in its log."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.build.conftest import make_monorepo


@pytest.fixture
def repo(tmp_path, docker_engine, python_base_image):
    made = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two"])
    yield made
    made.cleanup()


def _cli(repo, *args: str) -> dict:
    env = {**repo.env(), "CHUTES_BUILD_DOCKER_API": "1"}
    proc = subprocess.run([sys.executable, "-m", "chutes_build.cli", *args, "--json"],
                          cwd=repo.root, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    if args[0] == "up":  # one event a line, the summary last
        return json.loads(proc.stdout.splitlines()[-1])
    return json.loads(proc.stdout)


def _logged(repo, start: int) -> list[str]:
    with open(repo.log) as handle:
        handle.seek(start)
        return [line for line in handle.read().splitlines() if line.startswith("ARGV ")]


def _states(summary: dict) -> dict[str, str]:
    return {row["chute"]: row["state"] for row in summary["chutes"]}


def test_issue_16_no_op_up_ps_down_and_restart_start_no_docker_process(repo) -> None:
    first = repo.up()  # through the wrapper's CLI: builds, then starts both chutes
    assert set(first["states"].values()) == {"started"}
    start = repo.log.stat().st_size
    again = _cli(repo, "up", "--target", "local")["summary"]
    assert set(_states(again).values()) == {"unchanged"}
    rows = _cli(repo, "ps")["chutes"]
    assert [(row["state"], row["health"]) for row in rows] == [("running", "ok")] * 2
    assert _logged(repo, start) == []
    down = _cli(repo, "down", "--target", "local")
    assert sorted(row["state"] for row in down["summary"]["removed"]) == ["removed", "removed"]
    left = subprocess.run([repo.docker, "ps", "--all", "--quiet", "--filter",
                           f"label=chutes-build.chute={repo.prefix}-one"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert left.stdout.strip() == ""
    start = repo.log.stat().st_size
    back = _cli(repo, "up", "--target", "local")["summary"]  # containers made by the API
    assert set(_states(back).values()) == {"started"}
    for row in back["chutes"]:
        answer = httpx.post(row["url"] + "/hello", json="hi", timeout=30).json()
        assert answer["text"] == "hi" and answer["chute"] == row["chute"].rsplit("-", 1)[1]
    assert _logged(repo, start) == []
