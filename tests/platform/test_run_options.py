"""Issue 14: ``up --target chutes --dry-run`` sends nothing; ``--force`` checks each image
with the platform again instead of trusting the record (against the stand-in)."""

from __future__ import annotations

import json

from tests.chutes_target._workspace import posts

from .test_history import _up, ws  # noqa: F401  (the ws fixture)


def test_issue_14_chutes_dry_run_sends_and_records_nothing(ws, standin):  # noqa: F811
    result = ws("up", "--target", "chutes", "--json", "--dry-run")
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    assert summary["dry_run"] is True
    assert {row["state"] for row in summary["chutes"]} == {"would create"}
    assert {n["label"] for n in summary["would_run"]} >= {"deploy alpha", "deploy beta"}
    assert standin.state.requests == []
    assert {row["state"] for row in _up(ws, "--accept-fee")["chutes"]} == {"created"}


def test_issue_14_chutes_force_checks_recorded_images_with_the_platform(ws, standin):  # noqa: F811
    _up(ws, "--accept-fee")
    deployed, uploads = posts(standin, "/chutes/"), posts(standin, "/images/")
    before = len(standin.state.requests)
    again = _up(ws, "chutes/alpha.py", "--force")
    assert [row["state"] for row in again["images"]] == ["found"]  # the same content
    assert [row["state"] for row in again["chutes"]] == ["unchanged"]  # one version, once
    asked = [r.path for r in standin.state.requests[before:] if r.method == "GET"]
    assert any(path.startswith("/images/") for path in asked), asked
    assert posts(standin, "/chutes/") == deployed and posts(standin, "/images/") == uploads
