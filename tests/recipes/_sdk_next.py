"""A venv with the newest SDK release (``chutes==0.6.11rc2``) beside the 0.6.9 reference.

The templates' SDK 0.6.10–0.6.11 arguments are checked against it. ``scripts/sdk-venv
0.6.11rc2`` makes it (the README's test command runs it first), under a lock, like the
reference: a stamp written last marks it complete.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["SDK_NEXT_VERSION", "ensure_sdk_next"]

SDK_NEXT_VERSION = "0.6.11rc2"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sdk-venv"


def ensure_sdk_next() -> tuple[str | None, str]:
    """``(python, "")`` of the venv, making it when missing; ``(None, why)`` when that fails."""
    try:
        done = subprocess.run([str(SCRIPT), SDK_NEXT_VERSION], capture_output=True, text=True,
                              timeout=900)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"scripts/sdk-venv {SDK_NEXT_VERSION} failed: {exc}"
    if done.returncode != 0:
        return None, f"scripts/sdk-venv {SDK_NEXT_VERSION} failed: {done.stderr[-2000:]}"
    return done.stdout.strip().splitlines()[-1], ""
