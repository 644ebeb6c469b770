"""Issue 14: ``--dry-run``, ``--force`` and ``--no-cache`` of ``build`` and ``up``, against
the real engine (each docker invocation is logged by the monorepo's wrapper)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker


def _summary(proc) -> dict:
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert lines and "summary" in lines[-1], proc.stdout[-2000:] + proc.stderr[-2000:]
    return lines[-1]["summary"]


def _argvs(repo, start: int) -> list[list[str]]:
    with open(repo.log) as handle:
        handle.seek(start)
        return [line.split()[1:] for line in handle if line.startswith("ARGV ")]


def _results(repo) -> list[Path]:
    return [p for p in (repo.root / ".cache").glob("ac/**/*") if p.is_file()]


def _offset(repo) -> int:
    return repo.log.stat().st_size if repo.log.exists() else 0


def test_issue_14_dry_run_builds_starts_and_records_nothing(monorepo) -> None:
    start = _offset(monorepo)
    proc = monorepo.cli("up", "--target", "local", "--dry-run", "--json")
    summary = _summary(proc)
    assert summary["dry_run"] is True and summary["failed"] == []
    labels = [n["label"] for n in summary["would_run"]]
    assert sum(label.startswith("run ") for label in labels) == 3, labels
    assert {row["state"] for row in summary["chutes"]} == {"would deploy"}
    argvs = _argvs(monorepo, start)
    changing = [a for a in argvs if "--iidfile" in a or a[:1] in (["run"], ["tag"], ["rm"])]
    assert changing == [] and argvs, argvs  # the engine was only asked (ps, image ls)
    assert _results(monorepo) == []  # no result, no port assignment recorded
    planned = json.loads(monorepo.cli("plan", "--json").stdout)
    assert planned["summary"]["cached"] == 0
    human = monorepo.cli("build", "--dry-run")
    assert re.search(r"^dry run: \d+ node\(s\) would run, 0 are up to date; nothing was "
                     r"built, started or recorded$", human.stdout, re.M), human.stdout  # fmt: skip
    # the real run then does everything the dry run listed
    assert set(monorepo.up()["states"].values()) == {"started"}


def test_issue_14_dry_run_after_up_has_nothing_to_run(monorepo) -> None:
    monorepo.up()
    summary = _summary(monorepo.cli("up", "--target", "local", "--dry-run", "--json"))
    assert summary["would_run"] == [], summary["would_run"]
    assert {row["state"] for row in summary["chutes"]} == {"unchanged"}


def test_issue_14_force_rebuilds_and_restarts_what_is_cached(monorepo) -> None:
    first = monorepo.up()
    before = monorepo.containers()
    start = _offset(monorepo)
    proc = monorepo.cli("up", "--target", "local", "--force", "--json")
    summary = _summary(proc)
    assert {row["state"] for row in summary["chutes"]} == {"restarted"}, summary["chutes"]
    assert {row["status"] for row in summary["images"]} == {"built"}
    builds = [a for a in _argvs(monorepo, start) if "--iidfile" in a]
    tags = {a[a.index("-t") + 1] for a in builds}
    wanted = {t for t in first["builds"] if not t.startswith("chutes-build/runtime-stage:")}
    assert wanted and wanted <= tags, (tags, first["builds"])  # every layer, runtime layers too
    assert not [a for a in builds if "--no-cache" in a]  # --force keeps BuildKit's cache
    monorepo.runs.append(summary)
    after = monorepo.containers()
    assert set(after) == set(before) and all(after[n] != before[n] for n in after)
    # and a plain `up` afterwards has nothing to do
    again = monorepo.up()
    assert again["builds"] == [] and set(again["states"].values()) == {"unchanged"}


def test_issue_14_no_cache_builds_without_buildkit_cache(monorepo) -> None:
    monorepo.cli("build", "--json")
    start = _offset(monorepo)
    summary = _summary(monorepo.cli("build", "--no-cache", "--json"))
    assert {row["status"] for row in summary["images"]} == {"built"}
    builds = [a for a in _argvs(monorepo, start) if "--iidfile" in a]
    assert builds and all("--no-cache" in a for a in builds), builds
    log = monorepo.cli("logs", "--build", f"{monorepo.prefix}-one").stdout
    assert "RUN echo one > /app/name" in log, log[-2000:]
    blocks = [b for b in re.split(r"^.*─{3,}.*$", log, flags=re.M) if "#1 " in b]
    assert len(blocks) >= 2, log[-2000:]  # the shared segment and the chute's own layer
    for block in blocks:  # one stored log per segment
        runs = set(re.findall(r"^#(\d+) \[\d+/\d+\] RUN ", block, re.M))
        cached = set(re.findall(r"^#(\d+) CACHED$", block, re.M))
        assert runs and not cached & runs, block[-2000:]  # BuildKit reran each RUN step
