"""Every command of the SDK's CLI has a counterpart here, read from the real SDK's command
tree (the reference SDK's venv), so users can drop the SDK."""

from __future__ import annotations

import json
import subprocess

import typer.main

from chutes_build.cli import app

WALK = """
import json, typer.main
from chutes.cli import app
def walk(c, path=()):
    subs = getattr(c, "commands", None)
    if not subs:
        return [[list(path), sorted(o for p in c.params for o in p.opts if o.startswith("--"))]]
    return [row for n, s in subs.items() for row in walk(s, (*path, n))]
print(json.dumps(walk(typer.main.get_command(app))))
"""

#: SDK commands whose work is done by another command here.
ELSEWHERE = {
    ("build",): "up --target chutes builds changed images on the platform",
    ("deploy",): "up --target chutes deploys changed chutes",
    ("refinger",): "changing the account fingerprint is not offered",
}


def _ours() -> dict[tuple[str, ...], set[str]]:
    found = {}

    def walk(command, path=()):
        subs = getattr(command, "commands", None)
        if not subs:
            found[path] = {o for p in command.params for o in p.opts if o.startswith("--")}
        for name, sub in (subs or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app))
    return found


def test_issue_18_every_sdk_command_has_a_counterpart(sdk_python):
    out = subprocess.run([sdk_python, "-c", WALK], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    sdk = {tuple(path): set(opts) for path, opts in json.loads(out.stdout)}
    ours = _ours()
    missing = sorted(" ".join(p) for p in sdk if p not in ours and p not in ELSEWHERE)
    assert missing == []
    # the options scripts pass most keep the SDK's spelling
    spelled = [
        (("startup-logs",), "--instance"), (("startup-logs",), "--latest"),
        (("transfer-balance",), "--amount"), (("warmup",), "--stream-logs"),
        (("report",), "--invocation-id"), (("report",), "--reason"),
        (("secrets", "create"), "--purpose"), (("secrets", "create"), "--key"),
        (("run",), "--dev-job-data-path"), (("run",), "--dev-job-method"),
        (("chutes", "list"), "--include-public"), (("images", "list"), "--name"),
        (("login",), "--wallet"), (("login",), "--hotkey"), (("login",), "--wallets-path"),
    ]  # fmt: skip
    for path, option in spelled:
        if path in sdk:
            assert option in sdk[path] and option in ours[path], (path, option)
