"""``up --target chutes --warm`` against the stand-in: every changed chute is warmed, in
parallel, and the run reports when each is hot (the CLI runs in this process)."""

from __future__ import annotations

import json
import re

from chutes_build.platform import Signer
from tests.chutes_target._workspace import SEED, write_chute

from .test_history import _up, ws  # noqa: F401  (the ws fixture)


def _warmed(standin) -> list[str]:
    return sorted(r.path.rsplit("/", 1)[1] for r in standin.state.requests
                  if r.path.startswith("/chutes/warmup/"))  # fmt: skip


def test_issue_18_up_warm_warms_every_changed_chute_in_parallel(ws, standin):  # noqa: F811
    standin.state.warmup_barrier = 3  # none turns hot until all three are warming
    result = ws("up", "--target", "chutes", "--json", "--accept-fee", "--warm")
    assert result.returncode == 0, result.stderr + result.stdout[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    summary = lines[-1]["summary"]
    assert {r["chute"]: r["warm"]["state"] for r in summary["chutes"]} == {
        "alpha": "hot", "beta": "hot", "delta": "hot"}  # fmt: skip
    hot = [e["label"] for e in lines[:-1] if e.get("event") == "warm" and e["status"] == "hot"]
    assert sorted(hot) == ["warm alpha", "warm beta", "warm delta"]
    assert _warmed(standin) == ["alpha", "beta", "delta"]
    # only changed chutes are warmed
    standin.state.warmup_barrier = 1
    write_chute(ws.root, "beta", image="imga", vram=24, greeting="hey ")
    again = ws("up", "--target", "chutes", "--warm")
    assert again.returncode == 0, again.stderr
    assert "beta is hot" in again.stdout and "alpha is hot" not in again.stdout
    assert _warmed(standin) == ["alpha", "beta", "beta", "delta"]
    assert re.search(r"^beta\s+updated\s+.*\s+hot after \d+\.\d s", again.stdout, re.M)


def test_up_warm_fails_when_a_chute_cannot_be_warmed(ws, standin):  # noqa: F811
    _up(ws, "--accept-fee")
    alice = standin.state.user_by_hotkey(Signer(SEED).ss58_address)  # the config's user
    write_chute(ws.root, "alpha", image="imga", vram=16, greeting="hey ")
    alice.balance = 0  # the platform warms only with a positive balance
    result = ws("up", "--target", "chutes", "--json", "--warm")
    assert result.returncode == 1
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    assert summary["failed"][0]["label"] == "warm alpha"
    error = summary["failed"][0]["error"]
    assert error.startswith("warming alpha: Account balance must be > 0 to warm up chutes")
    assert "fix: add balance: the platform warms chutes only while the balance is above 0" in error
    assert {r["chute"]: r["state"] for r in summary["chutes"]}["alpha"] == "updated"


def test_warm_needs_the_chutes_target(ws):  # noqa: F811
    result = ws("up", "--warm")
    assert result.returncode == 1
    assert re.match(r"^error: unknown target 'local' for this command", result.stderr)
