"""Issue 17: builds spread over real Docker engines that share a real registry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.conftest import REPO
from tests.pool.conftest import engine_row


def _images(summary: dict) -> dict[str, str]:
    return {row["image"]: row["status"] for row in summary["images"]}


def test_issue_17_a_chain_started_on_engine_a_is_finished_on_engine_b(
    extra_engine, pool_workspace
):
    a, b = extra_engine("a"), extra_engine("b")
    ws = pool_workspace
    ws.chute("chain", "echo one > /one", "echo two > /two")
    summary, _ = ws.build(a)
    assert _images(summary) == {"t/chain:1": "built"}
    assert engine_row(summary, "a")["built"] == 1
    assert [row["ref"] for row in summary["images"]] == [ws.ref("chain")]

    ws.chute("chain", "echo one > /one", "echo two > /two", "echo three > /three")
    summary, events = ws.build(b)
    assert _images(summary) == {"t/chain:1": "built"}
    assert engine_row(summary, "b")["built"] == 1
    layers = [e for e in events if e["event"] == "done" and e["node"].startswith("layer:")]
    only = ("1 layer(s) ..RUN echo three > /three", "b")
    assert [(e["label"], e["engine"]) for e in layers] == [only]
    assert [e["engine"] for e in events if e["event"] == "engine"] == ["b"]
    # engine b never built the first two layers: it pulled them, and the image it pushed
    # carries all three
    shown = b.docker_cmd("run", "--rm", "--network=none", ws.ref("chain"), "cat", "/one",
                         "/two", "/three")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["one", "two", "three"]


def test_issue_17_a_fresh_engine_with_the_same_registry_rebuilds_nothing(
    extra_engine, pool_workspace
):
    a = extra_engine("a")
    ws = pool_workspace
    for name in ("fresh1", "fresh2"):
        ws.chute(name, f"echo {name} > /name", "echo shared > /shared")
    summary, _ = ws.build(a)
    assert set(_images(summary).values()) == {"built"}

    c = extra_engine("c")  # a new machine: an empty engine, the same registry and cache
    summary, events = ws.build(c)
    assert _images(summary) == {"t/fresh1:1": "cached", "t/fresh2:1": "cached"}
    assert engine_row(summary, "c")["built"] == 0
    assert not [e for e in events if e["event"] == "running"]
    listed = c.docker_cmd("image", "ls", "--quiet")
    assert listed.returncode == 0 and listed.stdout.strip() == ""

    ws.chute("fresh2", "echo fresh2 > /name", "echo shared > /shared", "echo more > /more")
    summary, _ = ws.build(c)
    assert _images(summary) == {"t/fresh1:1": "cached", "t/fresh2:1": "built"}
    assert engine_row(summary, "c")["built"] == 1


def test_issue_17_an_engine_killed_mid_run_is_failed_over_with_no_wrong_image(
    extra_engine, pool_workspace
):
    k, b = extra_engine("k"), extra_engine("b")
    ws = pool_workspace
    names = [f"kill{i}" for i in range(6)]
    for name in names:
        ws.chute(name, f"echo {name} > /name", "sleep 3")
    argv = [sys.executable, "-m", "chutes_build.cli", "build", "--json", "--jobs", "2",
            "--builders", f"{k.spec},{b.spec}"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.Popen(argv, cwd=ws.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    lines, killed = [], False
    for line in proc.stdout:
        lines.append(json.loads(line))
        if not killed and lines[-1].get("event") == "engine" and lines[-1]["engine"] == "k":
            os.kill(k.pid(), signal.SIGKILL)  # the engine goes away mid-segment
            killed = True
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    assert killed
    summary = lines[-1]["summary"]
    assert set(_images(summary).values()) == {"built"}
    assert engine_row(summary, "k")["down"]
    assert {f["engine"] for f in summary["pool"]["failovers"]} == {"k"}
    assert engine_row(summary, "b")["built"] + engine_row(summary, "k")["built"] == 6
    for name in names:  # every image holds what its chute says
        shown = b.docker_cmd("run", "--rm", "--network=none", ws.ref(name), "cat", "/name")
        assert shown.stdout.strip() == name, shown.stderr
    # and every recorded result is the image the registry holds under its key
    again, events = ws.build(b)
    assert set(_images(again).values()) == {"cached"}
    assert not [e for e in events if e["event"] == "running"]


def test_issue_17_an_engine_down_from_the_start_is_passed_over(extra_engine, pool_workspace):
    a = extra_engine("a")
    ws = pool_workspace
    ws.chute("around", "echo around > /name")
    dead = f"dead=unix://{a.folder}/missing.sock"
    summary, events = ws.build(dead, a)
    assert _images(summary) == {"t/around:1": "built"}
    assert engine_row(summary, "dead")["down"].startswith("Cannot connect to the Docker daemon")
    assert {e["engine"] for e in events if e["event"] == "engine"} == {"a"}


def test_issue_17_a_failing_step_is_the_builds_own_error_and_is_not_retried(
    extra_engine, pool_workspace
):
    a, b = extra_engine("a"), extra_engine("b")
    ws = pool_workspace
    ws.chute("broken", "echo start > /start", "exit 3")
    summary, events = ws.build(a, b)
    assert _images(summary) == {"t/broken:1": "failed"}
    assert summary["pool"]["failovers"] == []
    assert [row["down"] for row in summary["pool"]["engines"]] == [None, None]
    assert len([e for e in events if e["event"] == "engine"]) == 1
    [failure] = summary["failed"]
    assert failure["error"].startswith("building 127.0.0.1:")

