"""scripts/docker-up and scripts/lib/apt.sh on a "fresh machine": fake apt tools, dockerd
and docker on PATH.

The real engine keeps running; these runs only see the fakes (the daemon and the
client are chosen through $CHUTES_BUILD_DOCKERD and $CHUTES_BUILD_DOCKER).
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
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
        f'case "$*" in *" install "*) cat > {bin_dir}/fakedockerd <<"EOF"\n#!/bin/sh\n'
        f"{daemon}\nEOF\nchmod +x {bin_dir}/fakedockerd;; esac",
    )  # fmt: skip
    done = docker_up(env)
    assert done.returncode == 0, done.stderr
    # One install, waiting on apt's lock (after an update only if the lists needed one).
    calls = (state / "apt").read_text().splitlines()
    [install] = [call for call in calls if " install " in call]
    assert re.fullmatch(r"-q -o DPkg::Lock::Timeout=\d+ install -y -qq .*docker\.io", install)
    assert all(call.endswith(" update -qq") for call in calls if call != install)
    flags = "--bridge=none --iptables=false --ip-masq=false --ip-forward=false"
    assert (state / "args").read_text().strip() == flags
    assert "daemon says hi" in Path(env["CHUTES_BUILD_DOCKERD_LOG"]).read_text()
    assert "engine is up" in done.stderr
    again = docker_up(env)  # idempotent: nothing installed or started twice
    assert again.returncode == 0 and again.stderr == ""
    assert (state / "apt").read_text().splitlines() == calls


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


# -- scripts/lib/apt.sh ----------------------------------------------------------------------

HOLD_LOCK = """
import fcntl, sys, time
handle = open(sys.argv[1], "w")
fcntl.lockf(handle, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def apt_lib(env, script: str) -> subprocess.CompletedProcess:
    code = f'. {SCRIPTS / "lib" / "apt.sh"}; APT_SAY=t; {script}'
    return subprocess.run(["bash", "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_issue_11_apt_waits_for_a_held_lock_and_names_its_holder(tmp_path):
    lock = tmp_path / "lock-frontend"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        done = apt_lib(os.environ, f"APT_LOCKS=({lock}); APT_LOCK_TIMEOUT=1; apt_wait_for_lock")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert re.search(rf"^t: waiting for the apt lock held by process {holder.pid} \(", done.stderr,
                     re.M), done.stderr  # fmt: skip
    assert re.search(r"^t: gave up after 1s waiting for the apt lock held by", done.stderr, re.M)
    free = apt_lib(os.environ, f"APT_LOCKS=({lock}); APT_LOCK_TIMEOUT=1; apt_wait_for_lock")
    assert free.returncode == 0 and free.stderr == ""


def test_issue_11_apt_updates_stale_lists_and_names_the_package_it_could_not_install(machine):
    bin_dir, state, _, env = machine
    write_tool(bin_dir, "dpkg-query", "exit 1")  # nothing is installed
    write_tool(bin_dir, "apt-cache", '[ "$2" = ghost ] && exit 0; echo "  Candidate: 1.0"')
    write_tool(bin_dir, "apt-get", f'echo "$*" >> {state}/apt; case "$*" in *install*) exit 100;; '
                                   "esac; exit 0")  # fmt: skip
    done = apt_lib(env, "APT_LOCKS=(); apt_ensure real ghost")
    assert done.returncode == 1
    calls = (state / "apt").read_text().splitlines()
    assert [c.split()[-1] for c in calls] == ["-qq", "ghost", "ghost"]  # update once, retried once
    assert "update" in calls[0] and "install" in calls[1] and "real ghost" in calls[1]
    assert re.search(r"^t: could not install the Debian package 'real' ", done.stderr, re.M)
    assert re.search(r"^t: the Debian package 'ghost' is not available from this machine's apt "
                     r"sources$", done.stderr, re.M), done.stderr  # fmt: skip


def test_issue_11_apt_ensure_installs_nothing_that_is_installed(machine):
    bin_dir, state, _, env = machine
    write_tool(bin_dir, "dpkg-query", 'echo "install ok installed"')
    write_tool(bin_dir, "apt-get", f'echo "$*" >> {state}/apt')
    done = apt_lib(env, "APT_LOCKS=(); apt_ensure chromium nginx-light")
    assert done.returncode == 0 and done.stderr == ""
    assert not (state / "apt").exists()
