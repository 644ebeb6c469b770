"""Issue 16: the settled check of a no-op ``up``/``build`` agrees with the full run.

For each state of a real workspace on the real engine, the check (``settled_run``,
asked in this process) and the full run (the CLI with ``CHUTES_BUILD_SETTLED=0``)
are run on the same state: the check says settled exactly when the full run ran
nothing, and then its summary and cached nodes are the full run's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from chutes_build.cache import DiskStore, default_cache_dir
from chutes_build.engine import RunOptions, settled_run
from chutes_build.graph import compile_workspace
from chutes_build.workspace import find_workspace
from tests.build.conftest import make_monorepo

EXTRA = """\
from chutes_build import Chute

prebuilt = Chute(username="t", name="{prefix}-prebuilt", image="example/prebuilt:1")
"""

GPU = """\
from common.base import base
from chutes_build import Chute

image = base("{prefix}-gpu").run_command("echo gpu > /app/gpu")
chute = Chute(username="t", name="{prefix}-gpu", image=image, standard_template="vllm")
"""


@pytest.fixture
def repo(tmp_path, docker_engine, python_base_image, monkeypatch):
    for name in [n for n in os.environ if n.startswith("CHUTES_BUILD_")]:
        monkeypatch.delenv(name)
    made = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two"])
    (made.root / "chutes" / "prebuilt.py").write_text(EXTRA.format(prefix=made.prefix))
    (made.root / "chutes" / "gpu.py").write_text(GPU.format(prefix=made.prefix))
    yield made
    made.cleanup()


def _env(repo, fast: bool = False) -> dict[str, str]:
    return {**repo.env(), "CHUTES_BUILD_DOCKER_API": "1",
            **({} if fast else {"CHUTES_BUILD_SETTLED": "0"})}  # fmt: skip


def _check(repo, command: str = "up"):
    workspace = find_workspace(str(repo.root))
    store = DiskStore(default_cache_dir(workspace.config.cache_dir, workspace.root))
    with store:
        graph = compile_workspace(workspace, None, store)
        from chutes_build.engine import Session

        options = RunOptions(deploy=command == "up", full=True, network="none")
        return settled_run(Session(workspace, store, graph), options, _env(repo, fast=True))


def _run(repo, command: str = "up", fast: bool = False, as_json: bool = True):
    args = ["up", "--target", "local"] if command == "up" else ["build"]
    proc = subprocess.run([sys.executable, "-m", "chutes_build.cli", *args,
                           *(["--json"] if as_json else [])], cwd=repo.root,
                          env=_env(repo, fast), capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _events(stdout: str) -> tuple[list[dict], dict]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return lines[:-1], lines[-1]["summary"]


def _agree(repo, command: str = "up") -> bool:
    """Run the check, then the full run, on one state; assert they agree; return
    whether the state was settled."""
    settled = _check(repo, command)
    events, summary = _events(_run(repo, command))
    ran = [e for e in events if e["event"] != "cached"]
    states = {row["state"] for row in summary.get("chutes", [])}
    nothing = not ran and states <= {"unchanged", "needs-gpu", "prebuilt"}
    assert (settled is not None) == nothing, (ran, summary)
    if settled is not None:
        assert json.loads(json.dumps({**settled.summary, "warnings": []})) == summary
        cached = [{"event": "cached", "node": n, "label": label} for n, label in settled.cached]
        assert cached == events
    return settled is not None


def _docker(repo, *args: str) -> str:
    return subprocess.run([repo.docker, *args], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


def _container(repo, name: str) -> str:
    return _docker(repo, "ps", "-aq", "--filter", f"label=chutes-build.chute={repo.prefix}-{name}")


def test_issue_16_the_settled_check_agrees_with_the_full_run_in_every_state(repo) -> None:
    assert not _agree(repo)  # nothing built yet
    assert _agree(repo)  # all settled
    states = {row["chute"]: row["state"] for row in _check(repo).summary["chutes"]}
    assert states[f"{repo.prefix}-prebuilt"] == "prebuilt"
    assert states[f"{repo.prefix}-gpu"] == "needs-gpu"
    summary = _check(repo).summary
    one = next(r for r in summary["images"] if list(r["chutes"]) == [f"{repo.prefix}-one"])
    _docker(repo, "rmi", one["layer"])  # a layer tag removed
    assert not _agree(repo) and _agree(repo)
    _docker(repo, "rmi", one["ref"])  # an image tag removed
    assert not _agree(repo) and _agree(repo)
    two = next(r for r in summary["images"] if list(r["chutes"]) == [f"{repo.prefix}-two"])
    _docker(repo, "tag", one["layer"], two["ref"])  # an image retagged
    assert not _agree(repo) and _agree(repo)
    _docker(repo, "stop", "-t", "1", _container(repo, "one"))  # a container stopped
    assert not _agree(repo) and _agree(repo)
    _docker(repo, "rm", "-f", _container(repo, "two"))  # a container removed
    assert not _agree(repo) and _agree(repo)
    repo.write_chute("one", greeting="hi")  # a chute's code edited
    assert not _agree(repo) and _agree(repo)
    (repo.root / "chutes" / "two.py").unlink()  # a chute deleted: its container is an orphan
    assert not _agree(repo) and _agree(repo)


def test_issue_16_runtime_records_and_tags_and_held_ports(repo) -> None:
    assert not _agree(repo) and _agree(repo)
    store_dir = default_cache_dir(find_workspace(str(repo.root)).config.cache_dir,
                                  str(repo.root))  # fmt: skip
    runtime = next(iter(_runtime_keys(repo)))
    os.remove(os.path.join(store_dir, "ac", runtime[:2], runtime))  # its record missing
    assert not _agree(repo) and _agree(repo)
    _docker(repo, "rmi", "--force", f"chutes-build/runtime:{runtime}")  # its tag missing
    assert not _agree(repo) and _agree(repo)
    url = next(r["url"] for r in _check(repo).summary["chutes"] if r["chute"].endswith("-one"))
    _docker(repo, "rm", "-f", _container(repo, "one"))
    with socket.socket() as holder:  # another process takes the chute's port
        holder.bind(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        holder.listen()
        assert not _agree(repo) and _agree(repo)
        moved = next(r for r in _check(repo).summary["chutes"] if r["chute"].endswith("-one"))
        assert moved["url"] != url


def _runtime_keys(repo) -> set[str]:
    listed = _docker(repo, "ps", "--format", "{{.Label \"chutes-build.runtime\"}}", "--filter",
                     f"label=chutes-build.chute={repo.prefix}-one")  # fmt: skip
    return set(listed.split())


def test_issue_16_a_settled_run_prints_what_the_full_run_prints_and_loads_no_engine(repo):
    for command in ("build", "up"):
        _run(repo, command)
        assert _check(repo, command) is not None
        for as_json in (True, False):
            full = _run(repo, command, as_json=as_json)
            assert _run(repo, command, fast=True, as_json=as_json) == full
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "chutes_build.cli", "up",
                           "--target", "local", "--json"], cwd=repo.root, env=_env(repo, True),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "chutes_build.engine._ports" in loaded  # the check decided the ports
    assert loaded & {"trio", "httpx", "networkx", "chutes_build.engine._run"} == set()
    assert _events(proc.stdout)[1]["chutes"]
