"""``chutes-build build`` and friends against the real engine, plus segment cutting."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time

import pytest

from chutes_build.cache import DiskStore, MemoryStore, scope_id
from chutes_build.engine import segments
from chutes_build.graph import compile_workspace
from chutes_build.workspace._workspace import find_workspace

from .conftest import make_monorepo


def _graph(root):
    workspace = find_workspace(str(root))
    return compile_workspace(workspace, None, MemoryStore())


def test_segments_split_at_the_shared_branch_point(tmp_path) -> None:
    repo = make_monorepo(tmp_path, "docker", "chutes-build/python-base:bookworm", ["a", "b", "c"])
    graph = _graph(repo.root)
    images = graph.keys("image")
    found = segments(graph, images, usable=set())
    shared = [s for s in found.values() if s.after is None]
    assert len(shared) == 1 and len(shared[0].layers) == 2  # ENV + RUN mkdir, one build
    assert shared[0].parent == "chutes-build/python-base:bookworm"
    tops = [s for s in found.values() if s.after is not None]
    assert len(tops) == 3
    assert {s.after for s in tops} == {shared[0].end}
    assert {s.parent for s in tops} == {f"chutes-build/layer:{shared[0].end}"}
    # With the branch point usable, only the three tops remain, each from its tag.
    again = segments(graph, images, usable={shared[0].end})
    assert sorted(s.end for s in again.values()) == sorted(s.end for s in tops)
    assert all(s.after is None for s in again.values())


@pytest.fixture
def repo(tmp_path, docker_engine, python_base_image):
    made = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two", "three"])
    yield made
    made.cleanup()


def _build_json(repo, *args, check=True):
    proc = repo.cli("build", "--json", *args, check=check)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc, (lines[-1]["summary"] if lines and "summary" in lines[-1] else None)


@pytest.mark.docker
def test_build_json_summary_and_a_deleted_tag_is_rebuilt(repo) -> None:
    _, summary = _build_json(repo)
    repo.runs.append(summary)
    rows = {row["chutes"][0]: row for row in summary["images"]}
    assert set(rows) == {f"{repo.prefix}-{n}" for n in ("one", "two", "three")}
    for row in rows.values():
        assert row["status"] == "built" and row["ref"].endswith(":1") and len(row["key"]) == 32
    existing = subprocess.run([repo.docker, "image", "inspect", rows[f"{repo.prefix}-one"]["ref"]],
                              capture_output=True)  # fmt: skip
    assert existing.returncode == 0, "the final image is tagged name:tag"
    start = repo.log.stat().st_size
    _, again = _build_json(repo)
    assert repo.builds(start) == [] and {r["status"] for r in again["images"]} == {"cached"}

    gone = rows[f"{repo.prefix}-two"]["layer"]
    subprocess.run([repo.docker, "rmi", gone], check=True, capture_output=True)
    start = repo.log.stat().st_size
    _, third = _build_json(repo)
    assert repo.builds(start) == [gone]
    states = {r["chutes"][0]: r["status"] for r in third["images"]}
    assert states[f"{repo.prefix}-two"] == "built"


@pytest.mark.docker
def test_missing_base_names_the_ref_and_the_fix(repo) -> None:
    text = (repo.root / "pyproject.toml").read_text()
    text = text.replace('"chutes-build/python-base:bookworm"', '"chutes-build/absent-base:0"')
    (repo.root / "pyproject.toml").write_text(text)
    proc = repo.cli("build", check=False)
    assert proc.returncode == 1
    assert "base image chutes-build/absent-base:0 does not exist" in proc.stderr
    assert "base-images" in proc.stderr
    assert repo.builds() == []


@pytest.mark.docker
def test_failed_build_shows_its_tail_and_logs_shows_the_rest(repo) -> None:
    repo.write_chute("two", step="echo about-to-fail && false")
    proc, summary = _build_json(repo, "--keep-going", check=False)
    assert proc.returncode == 1
    assert len(summary["failed"]) == 1
    error = summary["failed"][0]["error"]
    assert "about-to-fail" in error and "chutes-build logs --build" in error
    # --keep-going: the other chutes were built.
    done = {r["chutes"][0]: r["status"] for r in summary["images"]}
    assert done[f"{repo.prefix}-one"] == "built" and done[f"{repo.prefix}-three"] == "built"
    assert done[f"{repo.prefix}-two"] == "failed"
    logs = repo.cli("logs", "--build", f"{repo.prefix}-two", check=False)
    assert logs.returncode == 0, logs.stderr
    assert "about-to-fail" in logs.stdout
    store = DiskStore(str(repo.root / ".cache"))
    graph = compile_workspace(find_workspace(str(repo.root)), None, store)
    failed_top = graph.node(graph.resolve(f"{repo.prefix}-two:1")).top
    assert store.get_action(failed_top) is None


def test_up_without_an_engine_says_how_to_get_one(tmp_path) -> None:
    repo = make_monorepo(tmp_path, "docker", "chutes-build/python-base:bookworm", ["one"])
    fake = tmp_path / "fake-docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///x.sock' >&2\n"
                    "exit 1\n")  # fmt: skip
    fake.chmod(0o755)
    env = {**repo.env(), "CHUTES_BUILD_DOCKER": str(fake)}
    argv = [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local"]
    proc = subprocess.run(argv, cwd=repo.root, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "needs a Docker engine" in proc.stderr
    assert "scripts/docker-up" in proc.stderr and "chutes-build run" in proc.stderr


@pytest.mark.docker
def test_a_second_up_waits_for_the_first(repo) -> None:
    store = DiskStore(str(repo.root / ".cache"))
    lock = os.path.join(store.location, "locks", f"up-{scope_id(str(repo.root))}.lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    err = repo.root / "up.err"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with open(err, "w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local", "--json"],
                cwd=repo.root, env=repo.env(), stdout=subprocess.DEVNULL, stderr=sink,
            )  # fmt: skip
        while "waiting" not in err.read_text():
            assert proc.poll() is None, err.read_text()
            time.sleep(0.05)
        assert proc.poll() is None, "up went on while the lock was held"
    assert proc.wait(timeout=300) == 0, err.read_text()


ADD_CHUTE = """\
from common.base import base
from chutes_build import Chute

image = base("{prefix}-adds").add("data/", "/app/data/")
chute = Chute(username="t", name="{prefix}-adds", image=image)
"""


@pytest.mark.docker
def test_add_puts_only_the_selected_files_in_the_context(repo) -> None:
    (repo.root / "chutes" / "data").mkdir()
    (repo.root / "chutes" / "data" / "a.txt").write_text("first\n")
    (repo.root / "chutes" / "secret.txt").write_text("not selected\n")
    (repo.root / "chutes" / "adds.py").write_text(ADD_CHUTE.format(prefix=repo.prefix))
    _, summary = _build_json(repo, "chutes/adds.py")
    ref = summary["images"][0]["ref"]
    run = [repo.docker, "run", "--rm", "--network=none", ref, "sh", "-c",
           "cat /app/data/a.txt; ls /app/data"]  # fmt: skip
    assert subprocess.run(run, capture_output=True, text=True).stdout.split() == ["first", "a.txt"]
    (repo.root / "chutes" / "data" / "a.txt").write_text("second\n")
    start = repo.log.stat().st_size
    _, again = _build_json(repo, "chutes/adds.py")
    assert len(repo.builds(start)) == 1 and again["images"][0]["status"] == "built"
    assert subprocess.run(run, capture_output=True, text=True).stdout.split()[0] == "second"
