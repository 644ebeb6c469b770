"""The long fault-injection run (issue 7): SIGKILL ``chutes-build`` at 50+ moments.

For every named point of ``CHUTES_BUILD_FAULT`` (see ``chutes_build/cache/faults.py``)
``build`` is killed at its 1st, 2nd, ... pass through it (every ``--step``-th, until a
run ends without reaching it); then ``--external`` kills of the whole process group at
random moments of a ``RUN sleep`` step; then (``--up``) the points of
``up --target local``. Before each kill every layer is made dirty again. After each
kill: every cache entry is read back and checked, no partial file sits under a final
name, the next run (unarmed) completes, and no build whose result had been recorded
runs again.

Prints one row per point and the totals; exits 1 if redone, corrupt, stray or
next_failed is not zero. Columns: ``kills``; ``kept``: builds recorded before the
kill (summed), which the next run must not redo; ``redone``: those it did redo;
``rebuilt``: builds cut short or finished but unrecorded, done again (allowed);
``corrupt``: entries failing verification after the kill or after the next run;
``stray``: partial files outside ``tmp/``; ``next_failed``: next runs that failed;
``tmp_left``: torn temporary files in ``tmp/`` so far (``cache gc`` removes them
after an hour).

    python bench/kill_points.py [--step 3] [--external 8] [--up] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from tests.hardening import _faults  # noqa: E402

POINTS = [
    "hash.file",
    "write.begin",
    "write.partial",
    "write.synced",
    "write.replaced",
    "eval.write.partial",
    "eval.write.synced",
    "cas.write.partial",
    "cas.write.replaced",
    "ac.write.begin",
    "ac.write.partial",
    "ac.write.synced",
    "ac.write.replaced",
    "build.finished",
    "commit.layer",
    "graph.write.begin",
    "graph.write.partial",
    "graph.write.synced",
    "graph.write.replaced",
]
UP_POINTS = ["build.finished", "commit.layer", "deploy.before-start", "deploy.started"]
MAX_N = 60


def _script(name: str, *args: str) -> str:
    proc = subprocess.run([os.path.join(REPO, "scripts", name), *args], capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"scripts/{name} failed: {proc.stderr[-2000:]}")
    return proc.stdout.split()[-1] if proc.stdout.split() else ""


def _docker() -> str:
    _script("docker-up")
    return os.environ.get("CHUTES_BUILD_DOCKER") or "/usr/bin/docker"


class Table:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.failures: list[str] = []

    def add(self, group: str, report: _faults.KillReport, tmp_left: int) -> None:
        row = self.rows[group]
        row["kills"] += 1
        row["kept"] += report.extra.get("kept", 0)
        row["rebuilt"] += report.extra.get("rebuilt", 0)
        row["redone"] += len(report.redone)
        row["corrupt"] += len(report.corrupt) + len(report.corrupt_after)
        row["stray"] += len(report.stray)
        row["next_failed"] += 0 if report.next_ok else 1
        row["tmp_left"] = max(row["tmp_left"], tmp_left)
        if not report.ok:
            self.failures.append(f"{group} {report.point}: redone={report.redone} "
                                 f"corrupt={report.corrupt + report.corrupt_after} "
                                 f"stray={report.stray}\n{report.next_error[-1500:]}")  # fmt: skip

    def show(self) -> int:
        cols = ["kills", "kept", "redone", "rebuilt", "corrupt", "stray", "next_failed",
                "tmp_left"]  # fmt: skip
        head = f"{'point':<34}" + "".join(f"{c:>12}" for c in cols)
        print(head)
        print("-" * len(head))
        totals: dict[str, int] = defaultdict(int)
        for group, row in self.rows.items():
            print(f"{group:<34}" + "".join(f"{row[c]:>12}" for c in cols))
            for c in cols:
                totals[c] = totals[c] + row[c] if c != "tmp_left" else max(totals[c], row[c])
        print("-" * len(head))
        print(f"{'total':<34}" + "".join(f"{totals[c]:>12}" for c in cols))
        for failure in self.failures:
            print("FAILED", failure)
        bad = totals["redone"] + totals["corrupt"] + totals["stray"] + totals["next_failed"]
        return 1 if bad else 0


def _tmp_left(repo) -> int:
    return len(os.listdir(os.path.join(_faults.cache(repo), "tmp")))


def _sweep(table: Table, repo, points, command, step: int, label: str) -> None:
    """Kill at every ``step``-th pass of each point until a run no longer reaches it."""
    for point in points:
        for n in range(1, MAX_N + 1, step):
            _faults.fresh_inputs(repo, f"{label}-{point}-{n}")
            report = _faults.kill_at(repo, point, n, command)
            if not report.killed:  # the run ended before its n-th pass: next point
                break
            table.add(f"{label} {point}", report, _tmp_left(repo))
            print(f"  {label} {point}:{n} {'ok' if report.ok else 'FAILED'}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=3, help="kill at every step-th pass")
    parser.add_argument("--external", type=int, default=8, help="random kills from outside")
    parser.add_argument("--up", action="store_true", help="also kill `up --target local`")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docker = _docker()
    busybox = _script("base-images", "busybox")
    table, started = Table(), time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        repo = _faults.busybox_repo(Path(tmp) / "build", docker, busybox)
        try:
            repo.cli("build")
            _sweep(table, repo, POINTS, ["build"], args.step, "build")
            repo.write_chute("slow", step="sleep 1 && echo slow > /app/name")
            rng = random.Random(args.seed)
            for index in range(args.external):
                _faults.fresh_inputs(repo, f"external-{index}")
                report = _faults.kill_from_outside(repo, ["build"], rng)
                table.add("build external SIGKILL", report, _tmp_left(repo))
                print(f"  external {report.point} {'ok' if report.ok else 'FAILED'}", flush=True)
        finally:
            repo.cleanup()
        if args.up:
            python = _script("base-images", "python")
            repo = _faults.make_monorepo(Path(tmp) / "up", docker, python, ["one", "two"])
            try:
                _sweep(table, repo, UP_POINTS, ["up", "--target", "local"], 1, "up")
            finally:
                repo.cleanup()
    print()
    code = table.show()
    print(f"\n{time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
