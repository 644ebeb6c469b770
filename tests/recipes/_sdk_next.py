"""A venv with the newest SDK release (``chutes==0.6.11rc2``) beside the 0.6.9 reference.

The templates' SDK 0.6.10–0.6.11 arguments are checked against it. It lives at
``$CHUTES_BUILD_SDK_NEXT_VENV`` (default ``~/.cache/chutes-build/sdk-0.6.11rc2-venv``)
and is made on first use, under a lock, like scripts/sdk-venv makes the reference:
a stamp written last marks it complete.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["SDK_NEXT_VERSION", "ensure_sdk_next"]

SDK_NEXT_VERSION = "0.6.11rc2"


def _venv() -> Path:
    default = Path.home() / ".cache" / "chutes-build" / f"sdk-{SDK_NEXT_VERSION}-venv"
    return Path(os.environ.get("CHUTES_BUILD_SDK_NEXT_VENV", default))


def _run(argv: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, done.stderr[-2000:]


def ensure_sdk_next() -> tuple[str | None, str]:
    """``(python, "")`` of the venv, making it when missing; ``(None, why)`` when that fails."""
    venv = _venv()
    python, stamp = venv / "bin" / "python", venv / f".chutes-{SDK_NEXT_VERSION}"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and python.exists():
            return str(python), ""
        for argv in (
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"chutes=={SDK_NEXT_VERSION}"],
            [str(python), "-c", "import chutes.chute.template.vllm"],
        ):  # fmt: skip
            ok, why = _run(argv)
            if not ok:
                return None, f"{' '.join(argv[:4])} failed: {why}"
        stamp.touch()
    return str(python), ""
