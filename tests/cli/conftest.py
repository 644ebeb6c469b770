"""Running the ``chutes-build`` command as a user does, in this process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _env() -> dict[str, str]:
    """This environment less what would change the command's output, 200 columns wide."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CHUTES_EXECUTION_CONTEXT", "CHUTES_BUILD_DEBUG")
    }
    env["COLUMNS"] = "200"
    return env


@pytest.fixture
def cli():
    """``cli(*args, cwd=...)`` runs the ``chutes-build`` command (in this process: the
    process boundary is not what these tests are about) and returns its result."""

    def run(*args: str, cwd: Path) -> CliResult:
        return run_cli(args, cwd=cwd, env=_env())

    return run


@pytest.fixture
def cli_process():
    """``cli_process(*args, cwd=...)``: the command as a subprocess, for what only a real
    process shows (output that chute-file imports in worker processes write to fd 2)."""

    def run(*args: str, cwd: Path) -> CliResult:
        argv = [sys.executable, "-m", "chutes_build.cli", *args]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=_env(),
                              timeout=120)  # fmt: skip
        return CliResult(done.returncode, done.stdout, done.stderr)

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
