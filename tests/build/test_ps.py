"""``chutes-build ps``: each local chute's state, URL, health, uptime and restarts, read
from the real engine and from the chute itself (``/_ping`` answering as itself)."""

from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = pytest.mark.docker


def _ps(repo) -> dict[str, dict]:
    rows = json.loads(repo.cli("ps", "--json").stdout)["chutes"]
    return {row["chute"].removeprefix(f"{repo.prefix}-"): row for row in rows}


def test_issue_15_ps_shows_each_chute_running_healthy_and_then_stopped(monorepo) -> None:
    summary = monorepo.up()
    rows = _ps(monorepo)
    assert sorted(rows) == ["one", "three", "two"]
    for name, row in rows.items():
        assert row["state"] == "running" and row["health"] == "ok", row
        assert row["url"] == monorepo.url(name)
        assert row["restarts"] == 0 and row["uptime_s"] >= 0
        assert len(row["deploy"]) == 32
    assert set(summary["states"].values()) == {"started"}
    subprocess.run([monorepo.docker, "stop", "-t", "1", rows["two"]["container"]], check=True,
                   capture_output=True)  # fmt: skip
    after = _ps(monorepo)
    assert after["two"]["state"] == "exited" and after["two"]["health"] == "not running"
    assert after["two"]["uptime_s"] is None
    assert after["one"]["health"] == "ok"
    human = monorepo.cli("ps").stdout
    for name in ("one", "two", "three"):
        assert f"{monorepo.prefix}-{name}" in human
    assert "exited" in human and "not running" in human


def test_issue_15_ps_outside_any_running_chute_says_how_to_start_them(monorepo) -> None:
    result = monorepo.cli("ps")
    assert result.stdout.startswith("no chute containers of this workspace")
    assert json.loads(monorepo.cli("ps", "--json").stdout) == {"chutes": []}
