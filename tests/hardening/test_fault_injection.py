"""Issue 7: SIGKILL at many moments of ``build`` and ``up`` loses nothing, corrupts nothing.

Each kill is placed deterministically: ``CHUTES_BUILD_FAULT=<point>:<n>`` makes the
process SIGKILL itself at the n-th pass through a named point (mid-hash, a torn
temporary file, before and after the rename, a build finished but not recorded,
half a segment's results recorded, the run's graph being recorded, around a
container's start). A few kills come from outside, at a random moment of a
``RUN sleep`` step, to the whole process group. After each kill the cache verifies
entry by entry, the next run completes, and no build whose result had been
recorded runs again. ``bench/kill_points.py`` is the long run (50+ kill points).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from chutes_build import ChutesBuildError
from chutes_build.cache import faults as _hook
from tests.hardening import _faults

docker = pytest.mark.docker

#: A spread over the phases: hashing, each step of a cache write (in several areas),
#: a finished build before its result, a half-committed segment, the recorded graph.
CI_POINTS = [
    ("hash.file", 2),
    ("write.partial", 5),
    ("write.synced", 9),
    ("write.replaced", 12),
    ("eval.write.partial", 1),
    ("cas.write.partial", 2),
    ("ac.write.synced", 4),
    ("build.finished", 2),
    ("commit.layer", 1),
    ("graph.write.partial", 1),
]


def _explain(reports) -> str:
    lines = []
    for r in reports:
        if not r.ok:
            lines.append(f"{r.point}: killed={r.killed} corrupt={r.corrupt} stray={r.stray} "
                         f"redone={r.redone} after={r.corrupt_after}\n{r.next_error}")  # fmt: skip
    return "\n".join(lines)


HOOK = """\
from chutes_build.cache import faults as _faults
_faults.arm("write.synced:2")
_faults.hit("write.begin")
_faults.hit("write.synced", "ac.write.synced")
print("first", flush=True)
_faults.hit("write.synced")
print("second", flush=True)
"""


def test_issue_7_the_fault_hook_kills_at_the_nth_pass_and_only_when_armed() -> None:
    proc = subprocess.run([sys.executable, "-c", HOOK], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL and proc.stdout == "first\n", proc
    unarmed = HOOK.replace('_faults.arm("write.synced:2")', "_faults.arm(None)")
    proc = subprocess.run([sys.executable, "-c", unarmed], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "first\nsecond\n", proc
    with pytest.raises(ChutesBuildError, match=r"^CHUTES_BUILD_FAULT='x:0' is not <point>:<n>"):
        _hook.parse("x:0")


@pytest.fixture
def busy(tmp_path, docker_engine, busybox_image):
    repo = _faults.busybox_repo(tmp_path, docker_engine, busybox_image)
    for path in repo.root.rglob("*.py"):  # older than the racy window, however fast this is:
        os.utime(path, (time.time() - 10, time.time() - 10))  # the stat cache keeps them
    repo.cli("build")  # the docker client's probe is recorded; later runs start warm
    yield repo
    repo.cleanup()


@docker
def test_issue_11_every_kill_point_named_is_passed_by_a_run_with_fresh_inputs(busy) -> None:
    """A point renamed or removed in the code, or passed fewer times than a list needs,
    fails here by name instead of as a kill that silently never happened."""
    _faults.fresh_inputs(busy, "count")
    seen = _faults.points_seen(busy, ["build"])
    missing = _faults.unreached(sorted({*CI_POINTS, *_faults.BUILD_POINTS}), seen)
    assert not missing, f"kill points no run of `build` reaches: {missing}; seen: {seen}"


@docker
def test_issue_7_sigkill_at_named_points_of_build_loses_and_corrupts_nothing(busy) -> None:
    reports = []
    for index, (point, n) in enumerate(CI_POINTS):
        _faults.fresh_inputs(busy, f"kill-{index}")  # every layer is dirty again
        reports.append(_faults.kill_at(busy, point, n, ["build"]))
    assert all(r.ok for r in reports), _explain(reports)
    # The kills fell inside the work: a torn temporary file was left for gc to collect.
    assert any(name.startswith(".w-") for name in _tmp_files(busy))


def _tmp_files(repo) -> list[str]:
    import os

    return os.listdir(os.path.join(_faults.cache(repo), "tmp"))


@docker
def test_issue_7_sigkill_from_outside_during_a_run_step(busy) -> None:
    busy.write_chute("slow", step="sleep 1 && echo slow > /app/name")
    rng = random.Random(7)
    reports = []
    for index in range(2):
        _faults.fresh_inputs(busy, f"outside-{index}")
        reports.append(_faults.kill_from_outside(busy, ["build"], rng))
    assert all(r.ok for r in reports), _explain(reports)
    images = reports[-1].extra["summary"]["images"]
    assert {row["status"] for row in images} <= {"built", "cached"}


# -- up --target local ---------------------------------------------------------------------


@pytest.fixture
def pyrepo(tmp_path, docker_engine, python_base_image):
    repo = _faults.make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two"])
    yield repo
    repo.cleanup()


def _plan_dirty(repo) -> int:
    proc = repo.cli("plan", "--json")
    return json.loads(proc.stdout)["summary"]["dirty"]


@docker
def test_issue_11_every_kill_point_of_up_is_passed_by_a_run_with_fresh_inputs(pyrepo) -> None:
    _faults.fresh_inputs(pyrepo, "count")
    seen = _faults.points_seen(pyrepo, ["up", "--target", "local"])
    missing = _faults.unreached(_faults.UP_POINTS, seen)
    assert not missing, f"kill points no run of `up` reaches: {missing}; seen: {seen}"


@docker
def test_issue_7_sigkill_during_up_starts_no_chute_twice(pyrepo) -> None:
    reports = []
    for index, (point, n) in enumerate(_faults.UP_POINTS):
        _faults.fresh_inputs(pyrepo, f"up-{index}")
        report = _faults.kill_at(pyrepo, point, n, ["up", "--target", "local"])
        report.extra["containers"] = _faults.one_container_per_chute(pyrepo)
        report.extra["dirty"] = _plan_dirty(pyrepo)
        reports.append(report)
    assert all(r.ok for r in reports), _explain(reports)
    for r in reports:
        assert set(r.extra["containers"].values()) == {1}, (r.point, r.extra["containers"])
        assert len(r.extra["containers"]) == 2, (r.point, r.extra["containers"])
        # What the next `up` found running was recorded: `plan` has nothing left to do.
        assert r.extra["dirty"] == 0, r.point
        states = {row["state"] for row in r.extra["summary"]["chutes"]}
        assert states <= {"started", "restarted", "unchanged"}, (r.point, states)


@docker
def test_issue_7_a_chute_started_by_a_killed_up_is_kept_and_recorded(pyrepo) -> None:
    pyrepo.up()
    before = pyrepo.containers()
    pyrepo.write_chute("two", greeting="edited")  # code only: two is restarted, nothing built
    report = _faults.kill_at(pyrepo, "deploy.started", 1, ["up", "--target", "local"])
    assert report.ok, _explain([report])
    states = {row["chute"]: row["state"] for row in report.extra["summary"]["chutes"]}
    # The container the killed run started is healthy and current: kept, not started again.
    assert set(states.values()) == {"unchanged"}, states
    pyrepo.runs.append(report.extra["summary"])
    after = pyrepo.containers()
    assert after["one"] == before["one"] and after["two"] != before["two"]
    assert _plan_dirty(pyrepo) == 0


@docker
def test_issue_7_two_ups_at_once_one_waits_and_no_chute_starts_twice(pyrepo) -> None:
    """Both start together (a barrier); the builds of whichever takes the lock are held
    until the other has said that it waits, so the race ends the same way every time."""
    release = pyrepo.root / "release"
    gate = pyrepo.root / "gated-docker"
    gate.write_text(f"#!/usr/bin/env bash\n"
                    f"if [[ \" $* \" == *\" build \"* ]]; then\n"
                    f"  while [[ ! -e {release} ]]; do sleep 0.02; done\nfi\n"
                    f"exec {pyrepo.root / 'docker-wrapper'} \"$@\"\n")  # fmt: skip
    gate.chmod(0o755)
    env = {**pyrepo.env(), "CHUTES_BUILD_DOCKER": str(gate)}
    argv = [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local", "--json"]
    barrier, procs = threading.Barrier(2), {}
    outs = [(pyrepo.root / f"up{i}.out", pyrepo.root / f"up{i}.err") for i in range(2)]

    def start(index: int) -> None:
        out, err = outs[index]
        with open(out, "w") as stdout, open(err, "w") as stderr:
            barrier.wait()
            procs[index] = subprocess.Popen(argv, cwd=pyrepo.root, env=env, stdout=stdout,
                                            stderr=stderr)  # fmt: skip

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        _wait_for_waiting(procs, [err for _, err in outs])
    finally:
        release.write_text("go")
    codes = [procs[i].wait(timeout=600) for i in range(2)]
    errs = [err.read_text() for _, err in outs]
    assert codes == [0, 0], [e[-3000:] for e in errs]
    assert sum(WAITING in e for e in errs) == 1, [e[-2000:] for e in errs]
    summaries = [json.loads(out.read_text().splitlines()[-1])["summary"] for out, _ in outs]
    states = sorted(sorted({row["state"] for row in s["chutes"]}) for s in summaries)
    assert states == [["started"], ["unchanged"]], states  # the second found them running
    assert len(pyrepo.builds()) == len(set(pyrepo.builds()))  # each layer built once
    assert set(_faults.one_container_per_chute(pyrepo).values()) == {1}
    corrupt, stray = _faults.verify(pyrepo)
    assert corrupt == [] and stray == []
    pyrepo.runs.append(summaries[0])


WAITING = "another `chutes-build up` runs on this workspace; waiting for it"


def _wait_for_waiting(procs, errs) -> None:
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assertion
    while time.monotonic() < deadline:
        texts = [err.read_text() for err in errs]
        if any(WAITING in text for text in texts):
            return
        for proc in procs.values():
            if proc.poll() is not None:
                raise AssertionError(f"an up ended while the builds were held: {texts}")
        time.sleep(0.05)
    raise AssertionError("neither up said that it waits")


def test_issue_7_runtime_wheels_reach_their_folder_only_when_complete(tmp_path, monkeypatch):
    """A download killed half way left a torn wheel under the final folder, and pip then
    reused it on every later `up` (it trusts a file already in its download folder)."""
    from chutes_build.engine import _runtime_layer as layer

    python = layer.PythonInfo("3.11", "x86_64")
    folder = tmp_path / "wheels" / python.tag
    folder.mkdir(parents=True)
    (folder / "msgspec-0-cp311.whl").write_bytes(b"PK\x03\x04 torn")  # the old code's leftover
    downloads = []

    def download(into: str, info) -> None:
        downloads.append(into)
        with open(os.path.join(into, "msgspec-1-cp311.whl"), "wb") as handle:
            handle.write(b"PK whole")
        if len(downloads) == 1:
            raise KeyboardInterrupt  # cut short after one wheel, as a kill would
        with open(os.path.join(into, "complete"), "w") as handle:
            handle.write("\n".join(layer._pins()) + "\n")

    monkeypatch.setattr(layer, "_download", download)
    with pytest.raises(KeyboardInterrupt):
        layer._dependency_wheels(str(tmp_path), python)
    assert downloads[0] != str(folder)  # never written in place
    assert sorted(os.listdir(folder)) == ["msgspec-0-cp311.whl"]
    found = layer._dependency_wheels(str(tmp_path), python)
    assert [os.path.basename(p) for p in found] == ["msgspec-1-cp311.whl"]
    assert sorted(os.listdir(tmp_path / "wheels")) == [python.tag]  # no temporary folder left


def test_issue_7_two_processes_write_the_project_wheel_without_sharing_a_file(tmp_path):
    """Both used ``<wheel>.tmp``: one renamed the other's half-written file into place."""
    script = (
        "import sys\nfrom chutes_build.engine import _runtime_layer as l\n"
        "for _ in range(15):\n    l._write_wheel(sys.argv[1])\n"
        "import zipfile\nzipfile.ZipFile(sys.argv[1]).testzip()\n"
    )
    target = str(tmp_path / "chutes_build-0-py3-none-any.whl")
    procs = [subprocess.Popen([sys.executable, "-c", script, target], stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]  # fmt: skip
    errors = [proc.communicate()[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    assert os.listdir(tmp_path) == ["chutes_build-0-py3-none-any.whl"]
