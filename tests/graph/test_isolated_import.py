"""Chute files are imported in worker processes: one file cannot end, hang or poison a run.

The tests of ``os._exit`` and of hangs run the command in a real process (the
process boundary is what they are about); the others call the CLI in-process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chutes_build import WorkspaceError
from chutes_build.cli import main
from chutes_build.workspace._workspace import find_workspace, import_timeout

CHUTE = """\
from chutes.chute import Chute

chute = Chute(username="alice", name="{name}", image="parachutes/python:3.12")
"""

#: Each ends the process that imports it; ``Chute(`` marks it as a chute file.
ENDS = {
    "exits.py": "import os\nfrom chutes.chute import Chute\nos._exit(0)\n",
    "posix_exit.py": "import posix\nfrom chutes.chute import Chute\nposix._exit(0)\n",
    "killed.py": "import os, signal\nfrom chutes.chute import Chute\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n",
}

HANGS = {
    # The worker's own alarm stops it at the line it is on.
    "sleeps.py": "import time\nfrom chutes.chute import Chute\nwhile True:\n    time.sleep(1)\n",
    # Swallows the alarm: the parent kills the worker from outside.
    "swallows.py": "import time\nfrom chutes.chute import Chute\nwhile True:\n"
    "    try:\n        time.sleep(1)\n    except BaseException:\n        pass\n",
}


def workspace(root: Path, files: dict[str, str], table: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.chutes-build]\n{table}")
    files = {
        "a_good.py": CHUTE.format(name="first"),
        "z_good.py": CHUTE.format(name="last"),
        **files,
    }
    for rel, text in files.items():
        (root / rel).write_text(text if "Chute(" in text else text + "# Chute(\n")
    return root


def command(root: Path, *args: str, env: dict[str, str] | None = None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
    environ.update(CHUTES_BUILD_CACHE_DIR=str(root / ".cache"), COLUMNS="200", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", *args],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,  # a safety net for a hang, not a measurement
    )


def errors_by_file(stderr: str) -> dict[str, str]:
    return dict(re.findall(r"^error: ([\w.]+?)(?::\d+)?: (.*)$", stderr, flags=re.M))


def test_issue_12_a_file_that_ends_the_process_is_reported_and_the_others_load(tmp_path):
    root = workspace(tmp_path / "ws", ENDS)
    ls = command(root, "ls", "--json")
    assert ls.returncode == 1, ls.stderr
    assert "Traceback" not in ls.stderr
    data = json.loads(ls.stdout)
    assert [c["name"] for c in data["chutes"]] == ["first", "last"]
    assert sorted(e["file"] for e in data["errors"]) == sorted(ENDS)
    assert re.search(
        r"^error: exits\.py:3: importing the chute file called os\._exit\(0\), "
        r"which ends the process\n  fix: ",
        ls.stderr,
        re.M,
    )
    assert re.search(
        r"^error: posix_exit\.py: importing the chute file ended the process that imported it "
        r"\(exit status 0\)\n  fix: do not end the process",
        ls.stderr,
        re.M,
    )
    assert re.search(r"^error: killed\.py: .*\(killed by SIGKILL\)$", ls.stderr, re.M)
    plan = command(root, "plan", "--json")
    assert plan.returncode == 1, plan.stderr
    assert sorted(c for c in json.loads(plan.stdout)["summary"]["dirty_chutes"]) == [
        "first",
        "last",
    ]
    assert set(errors_by_file(plan.stderr)) == set(ENDS)


@pytest.mark.parametrize("where", ["setting", "env"])
def test_issue_12_a_file_that_hangs_is_stopped_at_the_import_timeout(tmp_path, where):
    table = "import-timeout = 1\n" if where == "setting" else "import-timeout = 600\n"
    env = {"CHUTES_BUILD_IMPORT_TIMEOUT": "1"} if where == "env" else {}
    root = workspace(tmp_path / "ws", HANGS, table)
    result = command(root, "ls", "--json", env=env)
    assert result.returncode == 1, result.stderr
    assert [c["name"] for c in json.loads(result.stdout)["chutes"]] == ["first", "last"]
    took = r"importing the chute file took longer than 1 s \(the import-timeout\) and was stopped"
    assert re.search(rf"^error: sleeps\.py:4: {took}\n  fix: .*import-timeout", result.stderr, re.M)
    assert re.search(rf"^error: swallows\.py: {took}\n  fix: ", result.stderr, re.M)


def run_cli(capsys, root: Path, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def in_ws(tmp_path, monkeypatch):
    monkeypatch.setenv("CHUTES_BUILD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CHUTES_BUILD_IMPORT_TIMEOUT", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "ws"


@pytest.mark.parametrize("raised", ["KeyboardInterrupt", "SystemExit(0)"])
def test_issue_12_keyboard_interrupt_or_system_exit_at_import_is_that_files_error(
    capsys, in_ws, monkeypatch, raised
):
    root = workspace(in_ws, {"raises.py": f"from chutes.chute import Chute\nraise {raised}\n"})
    monkeypatch.chdir(root)
    for args in (["ls"], ["plan"]):
        code, out, err = run_cli(capsys, root, *args)
        assert code == 1, err
        name = raised.split("(")[0]
        assert re.search(
            rf"^error: raises\.py:2: importing the chute file raised {name}", err, re.M
        ), err
        assert "first" in out and "last" in out


POISON = """\
import json
import chutes_build.graph._compile as compile_module
from chutes.chute import Chute

json.dumps = lambda *args, **kwargs: "poisoned"
compile_module.compile_snapshots = None
chute = Chute(username="alice", name="poisoner", image="parachutes/python:3.12")
"""


def test_issue_12_a_file_cannot_poison_the_run(capsys, in_ws, monkeypatch):
    root = workspace(in_ws, {"poison.py": POISON})
    monkeypatch.chdir(root)
    code, out, err = run_cli(capsys, root, "ls", "--json")
    assert code == 0, err
    assert [c["name"] for c in json.loads(out)["chutes"]] == ["first", "poisoner", "last"]
    code, out, err = run_cli(capsys, root, "plan", "--json")
    assert code == 0, err
    assert len(json.loads(out)["summary"]["dirty_chutes"]) == 3


def test_issue_12_a_warm_run_starts_no_worker(capsys, in_ws, monkeypatch):
    root = workspace(in_ws, {})
    monkeypatch.chdir(root)
    assert run_cli(capsys, root, "plan", "--json")[0] == 0

    def no_fork():
        raise AssertionError("a warm run forked a worker")

    monkeypatch.setattr(os, "fork", no_fork)
    code, out, err = run_cli(capsys, root, "ls", "--json")
    assert code == 0, err
    assert [c["name"] for c in json.loads(out)["chutes"]] == ["first", "last"]


def test_issue_12_dockerfile_imports_in_process_with_the_same_guards(capsys, in_ws, monkeypatch):
    # Only what this process survives: os._exit is trapped, not a crash or posix._exit.
    files = {"exits.py": ENDS["exits.py"], "sleeps.py": HANGS["sleeps.py"]}
    root = workspace(
        in_ws, {**files, "kbd.py": "raise KeyboardInterrupt\n"}, "import-timeout = 1\n"
    )
    monkeypatch.chdir(root)
    cases = {
        "exits.py": r"exits\.py:3: importing the chute file called os\._exit\(0\)",
        "sleeps.py": r"sleeps\.py:4: importing the chute file took longer than 1 s",
        "kbd.py": r"kbd\.py:1: importing the chute file raised KeyboardInterrupt",
    }
    for name, pattern in cases.items():
        code, out, err = run_cli(capsys, root, "dockerfile", f"{name}:chute")
        assert code == 1 and out == "", err
        assert re.match(rf"^error: {pattern}", err), err


def test_issue_15_import_timeout_is_a_workspace_setting_and_an_env_var(tmp_path):
    workspace(tmp_path / "default", {})
    assert import_timeout(find_workspace(str(tmp_path / "default")).config, {}) == 30
    root = workspace(tmp_path / "set", {}, "import-timeout = 5\n")
    config = find_workspace(str(root)).config
    assert import_timeout(config, {}) == 5
    assert import_timeout(config, {"CHUTES_BUILD_IMPORT_TIMEOUT": "2.5"}) == 2.5
    for bad in ("zero", "0", "-1", "inf", "nan", "1e9"):
        with pytest.raises(
            WorkspaceError,
            match=rf"^<environment>: CHUTES_BUILD_IMPORT_TIMEOUT='{bad}' is not a number of "
            r"seconds above 0 \(and at most a day\)\n  fix: ",
        ):
            import_timeout(config, {"CHUTES_BUILD_IMPORT_TIMEOUT": bad})
    root = workspace(tmp_path / "bad", {}, "import-timeout = 0\n")
    with pytest.raises(WorkspaceError, match=r"^.*pyproject\.toml: invalid \[tool\.chutes-build\]"):
        find_workspace(str(root))


def test_issue_15_the_timeout_error_names_the_file(tmp_path):
    from chutes_build.cache import MemoryStore
    from chutes_build.graph import evaluate_workspace

    root = workspace(tmp_path / "ws", {"sub_sleeps.py": HANGS["sleeps.py"]})
    evaluation = evaluate_workspace(find_workspace(str(root)), None, MemoryStore(), timeout=1)
    [(rel, error)] = evaluation.errors
    assert rel == "sub_sleeps.py" and error.file == str(root / "sub_sleeps.py")
    assert re.match(
        r"^.*sub_sleeps\.py:4: importing the chute file took longer than 1 s", str(error)
    )
    assert sorted(c.name for s in evaluation.snapshots for c in s.chutes) == ["first", "last"]
