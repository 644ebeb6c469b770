"""Running the ``chutes-build`` command as a user does: a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Result:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def cli():
    """``cli(*args, cwd=...)`` runs ``python -m chutes_build.cli`` and returns its result."""

    def run(*args: str, cwd: Path) -> Result:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CHUTES_EXECUTION_CONTEXT", "CHUTES_BUILD_DEBUG")
        }
        env["COLUMNS"] = "200"
        proc = subprocess.run(
            [sys.executable, "-m", "chutes_build.cli", *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=120,
        )
        return Result(proc)

    return run


@pytest.fixture
def workspace(tmp_path: Path):
    """``workspace(*fixture_names)``: copy files from tests/fixtures/bad into a fresh workspace."""

    def make(*names: str, extra: dict[str, str] | None = None) -> Path:
        root = tmp_path / "ws"
        root.mkdir(exist_ok=True)
        (root / "pyproject.toml").write_text('[tool.chutes-build]\nchutes = ["**/*.py"]\n')
        for name in names:
            (root / name).write_text((FIXTURES / "bad" / name).read_text())
        for rel, text in (extra or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    return make
