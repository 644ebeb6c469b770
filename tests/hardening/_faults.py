"""Helpers of the fault-injection tests and of ``bench/kill_points.py`` (issue 7).

A small monorepo is generated on a local base image (busybox for ``build``, the
Python base for ``up``), driven through the real CLI in a subprocess of its own
session, and killed with SIGKILL either from inside, at the n-th pass through a
named point (``CHUTES_BUILD_FAULT``, see ``chutes_build/cache/faults.py``), or
from outside at a random moment of a ``RUN sleep`` step. After each kill
:func:`check_after_kill` says what a machine crash would leave: corrupt entries,
a next run that fails, builds that had finished and are done again.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from chutes_build.cache import DiskStore
from tests.build.conftest import Monorepo, make_monorepo

#: Points of ``build`` that every run passes (name, the largest n that is always reached
#: on the three-chute busybox repo: a first run writes dozens of entries).
BUILD_POINTS = [
    ("hash.file", 2),
    ("write.begin", 12),
    ("write.partial", 12),
    ("write.synced", 12),
    ("write.replaced", 12),
    ("eval.write.partial", 1),
    ("stat.write.synced", 1),
    ("cas.write.partial", 3),
    ("ac.write.partial", 6),
    ("ac.write.synced", 6),
    ("ac.write.replaced", 6),
    ("build.finished", 3),
    ("commit.layer", 4),
    ("graph.write.begin", 1),
    ("graph.write.partial", 1),
    ("graph.write.replaced", 1),
]

UP_POINTS = [
    ("build.finished", 4),  # the fourth build: a runtime layer or a chute's own layer
    ("deploy.before-start", 1),
    ("deploy.started", 1),
    ("deploy.started", 2),
]


@dataclass
class KillReport:
    point: str
    killed: bool
    corrupt: list[tuple[str, str, str]] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)  # partial files outside tmp/
    redone: list[str] = field(default_factory=list)  # recorded before the kill, built again
    next_ok: bool = True
    next_error: str = ""
    corrupt_after: list[tuple[str, str, str]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.killed and not self.corrupt and not self.stray and not self.redone
            and self.next_ok and not self.corrupt_after
        )  # fmt: skip


def busybox_repo(tmp_path: Path, docker: str, busybox: str, names=("one", "two", "three")):
    return make_monorepo(tmp_path, docker, busybox, list(names))


def fresh_inputs(repo: Monorepo, tag: str) -> None:
    """Change the shared layers' value: every layer of every chute is dirty again (and new
    to BuildKit too: the repo's random prefix keeps its layer cache from answering).

    Every chute file is rewritten as well, so the next run hashes every workspace file
    whatever the stat cache remembered: how often a run passes ``hash.file`` (and writes
    the stat cache) must not depend on how long ago a file was written."""
    tag = f"{repo.prefix}-{tag}"
    text = (repo.root / "common" / "base.py").read_text()
    start = text.index('"SHARED", "') + len('"SHARED", "')
    end = text.index('"', start)
    (repo.root / "common" / "base.py").write_text(text[:start] + tag + text[end:])
    for path in sorted((repo.root / "chutes").glob("*.py")):
        lines = [line for line in path.read_text().splitlines() if not line.startswith("# inputs")]
        path.write_text("\n".join([*lines, f"# inputs: {tag}"]) + "\n")


def cache(repo: Monorepo) -> str:
    return str(repo.root / ".cache")


def recorded_builds(repo: Monorepo) -> set[str]:
    """Keys whose result names a built tag (layers and runtime layers): finished work."""
    store = DiskStore(cache(repo))
    found = set()
    for entry in store.entries():
        if entry.area != "ac":
            continue
        result = store.get_action(entry.name)
        tag = result.outputs.get("tag", "") if result else ""
        if tag.startswith(("chutes-build/layer:", "chutes-build/runtime:")):
            found.add(entry.name)
    return found


def verify(repo: Monorepo) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Corrupt entries under their final names, and files that are neither entries nor
    temporary files (a partial file must only ever be in ``tmp/``)."""
    store = DiskStore(cache(repo))
    stray = []
    for area in ("ac", "cas", "records"):
        for dirpath, _, files in os.walk(os.path.join(store.root, area)):
            stray += [os.path.join(dirpath, f) for f in files if f.startswith(".")]
    return store.verify(), stray


def run_cli(repo: Monorepo, args: list[str], env_extra: dict | None = None, timeout=300):
    """Run the CLI in a session of its own; SIGKILL what it left behind (orphaned docker
    clients) once it ended. Returns ``(returncode, stdout, stderr)``."""
    env = {**repo.env(), **(env_extra or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chutes_build.cli", *args], cwd=repo.root, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        _kill_group(proc.pid)
    return proc.returncode, out, err


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def build_count(repo: Monorepo, start: int) -> list[str]:
    return repo.builds(start)


def log_size(repo: Monorepo) -> int:
    return repo.log.stat().st_size if repo.log.exists() else 0


def _summary(out: str) -> dict:
    lines = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
    return lines[-1]["summary"] if lines else {}


def check_after_kill(
    repo: Monorepo, report: KillReport, command: list[str], prior: set[str] = frozenset()
) -> KillReport:
    """Verify the cache, run ``command`` again unarmed, compare what it built.

    ``prior``: the builds recorded before the killed run (to count what it finished)."""
    report.corrupt, report.stray = verify(repo)
    before = recorded_builds(repo)
    start = log_size(repo)
    code, out, err = run_cli(repo, [*command, "--json"])
    summary = _summary(out)
    report.next_ok = code == 0 and summary.get("failed") == []
    if not report.next_ok:
        report.next_error = (err or out)[-3000:]
    built = {tag.split(":", 1)[1] for tag in repo.builds(start)}
    report.redone = sorted(built & before)
    report.extra["kept"] = len(before - prior)  # finished by the killed run, to keep
    report.extra["rebuilt"] = len(built - before)  # cut short or unrecorded: built again
    report.corrupt_after, stray = verify(repo)
    report.stray += stray
    report.extra["summary"] = summary
    return report


def kill_at(repo: Monorepo, point: str, n: int, command: list[str]) -> KillReport:
    """Run ``command`` armed to die at the n-th ``point``, then :func:`check_after_kill`."""
    prior = recorded_builds(repo)
    seen_file = repo.root.parent / "fault-seen.json"
    seen_file.unlink(missing_ok=True)
    env = {"CHUTES_BUILD_FAULT": f"{point}:{n}", "CHUTES_BUILD_FAULT_SEEN": str(seen_file)}
    code, _, err = run_cli(repo, [*command, "--json"], env)
    report = KillReport(f"{point}:{n}", killed=code == -signal.SIGKILL)
    if not report.killed:
        seen = json.loads(seen_file.read_text()).get(point, 0) if seen_file.exists() else "?"
        report.next_error = (f"not killed: the run passed {point} {seen} time(s), fewer than "
                             f"{n} (exit {code}): {err[-2000:]}")  # fmt: skip
    return check_after_kill(repo, report, command, prior)


def points_seen(repo: Monorepo, command: list[str]) -> dict[str, int]:
    """How often one unarmed run of ``command`` passes each fault point."""
    seen_file = repo.root.parent / "fault-seen.json"
    seen_file.unlink(missing_ok=True)
    code, _, err = run_cli(repo, [*command, "--json"], {"CHUTES_BUILD_FAULT_SEEN": str(seen_file)})
    assert code == 0, err[-3000:]
    return json.loads(seen_file.read_text())


def unreached(points: list[tuple[str, int]], seen: dict[str, int]) -> list[str]:
    """The points a kill-point list names that a run no longer passes often enough."""
    return [f"{point}:{n} (passed {seen.get(point, 0)} time(s))" for point, n in points
            if seen.get(point, 0) < n]  # fmt: skip


def kill_from_outside(repo: Monorepo, command: list[str], rng: random.Random) -> KillReport:
    """SIGKILL the whole process group at a random moment of a ``RUN sleep`` step."""
    start, prior = log_size(repo), recorded_builds(repo)
    env = {**repo.env()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chutes_build.cli", *command, "--json"], cwd=repo.root, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assertion
    while "DF RUN sleep" not in _log_since(repo, start):
        if proc.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    delay = rng.uniform(0.0, 0.9)  # the sleep step lasts 1 s: the kill lands before its end
    time.sleep(delay)  # the kill moment is random on purpose; nothing asserts on it
    _kill_group(proc.pid)
    proc.wait()
    report = KillReport(f"external@{delay:.2f}s", killed=proc.returncode == -signal.SIGKILL)
    if not report.killed:
        report.next_error = f"not killed: the run ended first (exit {proc.returncode})"
    return check_after_kill(repo, report, command, prior)


def _log_since(repo: Monorepo, start: int) -> str:
    if not repo.log.exists():
        return ""
    with open(repo.log) as handle:
        handle.seek(start)
        return handle.read()


def one_container_per_chute(repo: Monorepo) -> dict[str, int]:
    """``{chute label: containers}`` of this workspace, running or not."""
    proc = subprocess.run(
        [repo.docker, "ps", "-a", "--filter", "label=chutes-build.chute",
         "--format", '{{.Label "chutes-build.chute"}}'], capture_output=True, text=True,
    )  # fmt: skip
    counts: dict[str, int] = {}
    for label in proc.stdout.split():
        if label.startswith(repo.prefix):
            counts[label] = counts.get(label, 0) + 1
    return counts
