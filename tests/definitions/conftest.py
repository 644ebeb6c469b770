"""Fixtures for the definition tests: the reference SDK, run beside chutes-build.

The SDK (``chutes==0.6.9``) lives in its own venv made by ``scripts/sdk-venv``;
``sdk_probe.py`` imports fixture files there once per session and returns what
the SDK made of them (Dockerfile text, uids, cords, schemas) as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PROBE = Path(__file__).with_name("sdk_probe.py")

#: Every fixture file the SDK is asked about, in one subprocess per session.
PROBED = (
    FIXTURES / "parity" / "images.py",
    FIXTURES / "parity" / "entrypoint_varargs.py",
    FIXTURES / "parity" / "checksum_hex.py",
    FIXTURES / "schemas" / "cords.py",
)


def clean_env() -> dict[str, str]:
    """The environment for subprocesses: no execution context, no debug mode."""
    env = dict(os.environ)
    for name in ("CHUTES_EXECUTION_CONTEXT", "CHUTES_BUILD_DEBUG"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def sdk_python() -> str:
    """Path of a python that imports the reference SDK (created on first use)."""
    script = REPO / "scripts" / "sdk-venv"
    try:
        proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        require(False, f"scripts/sdk-venv could not run: {exc}")
    require(proc.returncode == 0, f"scripts/sdk-venv failed:\n{proc.stderr[-3000:]}")
    python = proc.stdout.strip().splitlines()[-1]
    require(os.access(python, os.X_OK), f"scripts/sdk-venv printed no python: {proc.stdout!r}")
    return python


@pytest.fixture(scope="session")
def sdk(sdk_python: str) -> dict[str, dict]:
    """What the SDK made of each file in :data:`PROBED`, keyed by the file's stem path.

    Keys are paths relative to ``tests/fixtures`` without ``.py``
    (``"parity/images"``).
    """
    proc = subprocess.run(
        [sdk_python, str(PROBE), *map(str, PROBED)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    raw = json.loads(proc.stdout)
    return {
        str(Path(path).relative_to(FIXTURES).with_suffix("")): value for path, value in raw.items()
    }
