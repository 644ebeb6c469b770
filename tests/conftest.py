"""Shared test configuration.

Each test package keeps its own fixtures in its own ``conftest.py``; this one
only holds what every suite needs.
"""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real service is missing, but fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required service unavailable under CI=true: {reason}")
    pytest.skip(reason)


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CliResult:
    """What a run of the ``chutes-build`` command left: its exit code and output."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = self.returncode = code
        self.stdout, self.stderr = stdout, stderr


def run_cli(args, cwd=None, env: dict[str, str] | None = None, width: int = 200) -> CliResult:
    """Run ``chutes-build ARGS`` in this process, as ``python -m chutes_build.cli`` would
    (same entry, same exit codes, output captured) without paying an interpreter's and
    the imports' start-up per call. ``env`` replaces the environment for the call;
    ``width`` is the terminal width the output is laid out for. Use a subprocess where
    the process boundary is what a test is about (signals, exit at import, start-up)."""
    import contextlib
    import io
    import traceback

    from chutes_build.cli import _common, main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    consoles = (_common.console, _common.err_console)
    widths = [console._width for console in consoles]
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        for console in consoles:
            console.width = width
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # what the interpreter would print on its way out
                traceback.print_exc()
                code = 1
    finally:
        for console, saved in zip(consoles, widths, strict=True):
            console._width = saved
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return CliResult(code or 0, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def sdk_python() -> str:
    """Path of a Python that has the reference ``chutes==0.6.9`` SDK (made by scripts/sdk-venv)."""
    import subprocess

    script = os.path.join(REPO, "scripts", "sdk-venv")
    result = subprocess.run([script], capture_output=True, text=True, timeout=600)
    require(result.returncode == 0, f"scripts/sdk-venv failed: {result.stderr[-500:]}")
    return result.stdout.strip().splitlines()[-1]


# Docker engine fixtures (docker_engine, docker_client, busybox_image, python_base_image,
# new_tags), defined in tests/docker_fixtures.py,
# are shared by every suite that builds or runs images.
pytest_plugins = ["tests.docker_fixtures"]

#: Fixtures that start the Docker engine (directly or through another fixture).
ENGINE_FIXTURES = frozenset(
    {"docker_client", "docker_engine", "busybox_image", "python_base_image", "new_tags"}
)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test that reaches the engine ``docker``, from the fixtures it uses (their
    whole closure, so a fixture built on ``docker_engine`` counts too): the marker can't
    drift from what a test really needs, and ``-m "not docker"`` starts no engine."""
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)
