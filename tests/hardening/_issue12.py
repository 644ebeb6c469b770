"""Helpers of the issue 12 tests: the real CLI in a subprocess, bounded by a hang guard."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

#: A guard against a hang, not a timing assertion: each command ends in seconds.
GUARD = 120


def cli(root, *args: str, env_extra: dict | None = None) -> tuple[int, str, str]:
    """``chutes-build ARGS`` in ``root``; a run that outlives :data:`GUARD` fails the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
    env.update({"COLUMNS": "200", **(env_extra or {})})
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "chutes_build.cli", *args], cwd=root, env=env,
            capture_output=True, text=True, timeout=GUARD,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"chutes-build {' '.join(args)} hung")
    return proc.returncode, proc.stdout, proc.stderr
