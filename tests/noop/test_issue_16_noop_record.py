"""Issue 16: the no-op record answers an unchanged ``up``/``build`` with the output of
the run it recorded, and never answers a run that has something to do.

Each run is the console script's own (``main()`` with no arguments) in a process of
its own, on a real workspace and the real engine. A small driver reports whether
the command line was imported: a replay imports none of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.build.conftest import make_monorepo

#: Runs the console script's entry point as ``chutes-build ARGS`` and writes to MARK
#: whether the command line was imported (it is not, when the record answered).
DRIVER = """\
import sys
sys.argv = ["chutes-build", *sys.argv[2:]]
mark = {mark!r}
from chutes_build.cli import main
code = main()
with open(mark, "w") as handle:
    handle.write("ran" if "chutes_build.cli._app" in sys.modules else "replayed")
sys.exit(code)
"""


@pytest.fixture
def repo(tmp_path, docker_engine, python_base_image, monkeypatch):
    for name in [n for n in os.environ if n.startswith("CHUTES_BUILD_")]:
        monkeypatch.delenv(name)
    made = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two"])
    made.mark = tmp_path / "mark"
    made.driver = tmp_path / "driver" / "driver.py"  # a folder of its own: it is on sys.path
    made.driver.parent.mkdir()
    made.driver.write_text(DRIVER.format(mark=str(made.mark)))
    made.records = tmp_path / "user-cache" / "chutes-build" / "noop"
    yield made
    made.cleanup()


def _env(repo, **extra: str) -> dict[str, str]:
    return {**repo.env(), "CHUTES_BUILD_DOCKER_API": "1",
            "XDG_CACHE_HOME": str(repo.records.parent.parent), **extra}  # fmt: skip


def _run(repo, *args: str, **env: str) -> tuple[str, str, str]:
    """``chutes-build ARGS``: its stdout and stderr, and ``ran`` or ``replayed``."""
    repo.mark.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, str(repo.driver), "-", *args], cwd=repo.root,
                          env=_env(repo, **env), capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, proc.stderr, repo.mark.read_text()


def _recorded(repo, *args: str) -> tuple[str, str]:
    """Run ``args`` until a run leaves a record (a run is recorded only when nothing
    it read changed within a second of its start); the recorded run's output."""
    for _ in range(6):
        before = {p: p.stat().st_mtime_ns for p in repo.records.glob("*.noop")}
        out, err, how = _run(repo, *args)
        after = {p: p.stat().st_mtime_ns for p in repo.records.glob("*.noop")}
        if how == "ran" and after != before:
            return out, err
        time.sleep(1.1)
    why = _run(repo, *args, CHUTES_BUILD_DEBUG="1")[1]
    raise AssertionError(f"no run of an unchanged workspace was recorded:\n{why[-2000:]}")


def _states(stdout: str) -> dict[str, str]:
    summary = json.loads(stdout.splitlines()[-1])["summary"]
    return {row["chute"].rsplit("-", 1)[-1]: row["state"] for row in summary["chutes"]}


UP = ("up", "--target", "local", "--json")


def test_issue_16_a_replay_prints_what_the_recorded_run_printed(repo):
    _run(repo, *UP)  # builds and starts
    out, err = _recorded(repo, *UP)
    assert _states(out) == {"one": "unchanged", "two": "unchanged"}
    again, again_err, how = _run(repo, *UP)
    assert how == "replayed"
    assert (again, again_err) == (out, err)
    assert _run(repo, *UP, CHUTES_BUILD_SETTLED="0")[0] == out  # and the full run agrees
    human, human_err = _recorded(repo, "up", "--target", "local")
    assert "unchanged" in human
    assert _run(repo, "up", "--target", "local") == (human, human_err, "replayed")
    built, _ = _recorded(repo, "build", "--json")
    assert _run(repo, "build", "--json")[::2] == (built, "replayed")


def test_issue_16_a_run_with_work_is_never_answered_by_the_record(repo):
    _run(repo, *UP)
    _recorded(repo, *UP)
    repo.write_chute("one", greeting="hi")  # a chute file changed
    out, _, how = _run(repo, *UP)
    assert (how, _states(out)["one"]) == ("ran", "restarted")
    _recorded(repo, *UP)
    container = subprocess.run(
        [repo.docker, "ps", "-q", "--filter", f"label=chutes-build.chute={repo.prefix}-two"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    subprocess.run([repo.docker, "rm", "-f", *container], capture_output=True, check=True)
    out, _, how = _run(repo, *UP)  # a container is gone
    assert (how, _states(out)["two"]) == ("ran", "started")
    _recorded(repo, *UP)
    assert _run(repo, *UP, CHUTES_BUILD_LOCAL_GPU="0")[2] == "ran"  # another environment
    (repo.root / "chutes" / "three.py").write_text(
        (repo.root / "chutes" / "two.py").read_text().replace("-two", "-three")
    )  # a new chute file
    out, _, how = _run(repo, *UP)
    assert (how, _states(out)["three"]) == ("ran", "started")


def test_issue_16_a_record_is_not_written_for_a_run_with_a_fault_or_the_fast_paths_off(repo):
    _run(repo, *UP)
    for env in ({"CHUTES_BUILD_SETTLED": "0"}, {"CHUTES_BUILD_FAULT": "write.synced:1000"}):
        for _ in range(2):
            time.sleep(1.1)
            assert _run(repo, *UP, **env)[2] == "ran"
        assert not list(repo.records.glob("*.noop"))


def test_issue_16_a_plan_is_answered_by_its_record_until_a_chute_changes(repo):
    _run(repo, *UP)
    planned, _ = _recorded(repo, "plan", "--json")
    assert json.loads(planned)["summary"]["dirty"] == 0
    assert _run(repo, "plan", "--json")[::2] == (planned, "replayed")
    repo.write_chute("two", greeting="hey")
    out, _, how = _run(repo, "plan", "--json")
    assert how == "ran" and json.loads(out)["summary"]["dirty"] > 0


ADDS = """\
from common.base import base
from chutes_build import Chute

image = base("{prefix}-data").add("data/", "/app/data/")
chute = Chute(username="t", name="{prefix}-data", image=image)


@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"text": text}}
"""


def _image_status(stdout: str, name: str) -> str:
    summary = json.loads(stdout.splitlines()[-1])["summary"]
    return next(row["status"] for row in summary["images"] if row["image"].endswith(name + ":1"))


def test_issue_16_an_add_folder_or_a_stopped_container_is_never_answered_by_the_record(repo):
    (repo.root / "chutes" / "data").mkdir()
    (repo.root / "chutes" / "data" / "a.txt").write_text("a\n")
    (repo.root / "chutes" / "adds.py").write_text(ADDS.format(prefix=repo.prefix))
    _run(repo, *UP)
    _recorded(repo, *UP)
    (repo.root / "chutes" / "data" / "b.txt").write_text("b\n")  # a new file in the folder
    out, _, how = _run(repo, *UP)
    assert (how, _image_status(out, "-data"), _states(out)["data"]) == ("ran", "built", "restarted")
    _recorded(repo, *UP)
    (repo.root / "chutes" / "data" / "a.txt").write_text("changed\n")  # an added file
    out, _, how = _run(repo, *UP)
    assert (how, _image_status(out, "-data"), _states(out)["data"]) == ("ran", "built", "restarted")
    _recorded(repo, *UP)
    running = subprocess.run(
        [repo.docker, "ps", "-q", "--filter", f"label=chutes-build.chute={repo.prefix}-one"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    subprocess.run([repo.docker, "stop", "-t", "1", *running], capture_output=True, check=True)
    out, _, how = _run(repo, *UP)  # a container stopped
    assert how == "ran" and _states(out)["one"] in ("started", "restarted")
