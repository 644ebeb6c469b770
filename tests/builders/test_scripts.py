"""scripts/docker-up on a "fresh machine": fake apt-get, dockerd and docker on PATH.

The real engine keeps running; these runs only see the fakes (the daemon and the
client are chosen through $CHUTES_BUILD_DOCKERD and $CHUTES_BUILD_DOCKER).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests.docker_fixtures import SCRIPTS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="docker-up runs as root here")


def write_tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def machine(tmp_path):
    """A PATH folder with a fake client that answers once the fake daemon is ready."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    write_tool(bin_dir, "docker", f'[ "$1" = info ] && [ -f {state}/ready ] && exit 0\nexit 1')
    daemon = (
        f'echo "$*" > {state}/args; echo $$ > {state}/pid; echo "daemon says hi"\n'
        f"sleep 0.3; touch {state}/ready; exec sleep 120"
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TMPDIR": str(tmp_path),
        "CHUTES_BUILD_DOCKER": str(bin_dir / "docker"),
        "CHUTES_BUILD_DOCKERD": "fakedockerd",
        "CHUTES_BUILD_DOCKERD_LOG": str(tmp_path / "dockerd.log"),
        "CHUTES_BUILD_DOCKER_TIMEOUT": "20",
    }
    yield bin_dir, state, daemon, env
    pid_file = state / "pid"
    if pid_file.exists():  # the fake daemon this test started
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass


def docker_up(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / "docker-up")], env=env, capture_output=True, text=True, timeout=60
    )


def test_installs_and_starts_the_daemon_without_a_bridge(machine):
    bin_dir, state, daemon, env = machine
    # apt-get "installs" the daemon; it records what it was asked.
    write_tool(
        bin_dir, "apt-get",
        f'echo "$*" >> {state}/apt\n'
        f'if [ "$1" = install ]; then cat > {bin_dir}/fakedockerd <<"EOF"\n#!/bin/sh\n'
        f"{daemon}\nEOF\nchmod +x {bin_dir}/fakedockerd; fi",
    )  # fmt: skip
    done = docker_up(env)
    assert done.returncode == 0, done.stderr
    assert (state / "apt").read_text().splitlines() == ["update -qq", "install -y -qq docker.io"]
    flags = "--bridge=none --iptables=false --ip-masq=false --ip-forward=false"
    assert (state / "args").read_text().strip() == flags
    assert "daemon says hi" in Path(env["CHUTES_BUILD_DOCKERD_LOG"]).read_text()
    assert "engine is up" in done.stderr
    again = docker_up(env)  # idempotent: nothing installed or started twice
    assert again.returncode == 0 and again.stderr == ""
    assert len((state / "apt").read_text().splitlines()) == 2


def test_a_daemon_that_never_answers_fails_with_its_log(machine):
    bin_dir, state, _, env = machine
    write_tool(
        bin_dir, "fakedockerd", f"echo $$ > {state}/pid; echo 'failed to start'; exec sleep 120"
    )
    env["CHUTES_BUILD_DOCKER_TIMEOUT"] = "1"
    done = docker_up(env)
    assert done.returncode == 1
    assert "the engine did not answer within 1s" in done.stderr
    assert "failed to start" in done.stderr
