"""``chutes-build logs``: a local chute's container log on the real engine (found by its
labels, as ``up`` sets them), ``-f`` following it until Ctrl-C, ``--tail``, and
``--build`` showing the stored build logs headed by their Dockerfile steps."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chutes_build.cache import scope_id

pytestmark = pytest.mark.docker

PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
base-images = {{ "parachutes/python:3.12" = "{base}" }}
"""

CHUTE = """\
from chutes_build import Chute, Image

image = (
    Image(username="t", name="{name}", tag="1")
    .from_base("parachutes/python:3.12")
    .run_command("echo building-{name}")
    .with_env("STAGE", "{name}")
)
chute = Chute(username="t", name="{name}", image=image)
"""

#: What the container writes: two lines on stdout, one on stderr, then it waits.
SCRIPT = "echo first-line; echo second-line; echo on-stderr >&2; exec sleep 600"


class Repo:
    def __init__(self, root: Path, docker: str) -> None:
        self.root, self.docker, self.containers = root, docker, []
        self.name = "logs-" + uuid.uuid4().hex[:8]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
        return {**env, "CHUTES_BUILD_DOCKER": self.docker, "COLUMNS": "200"}

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "chutes_build.cli", *args]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), cwd=self.root, env=self.env(),
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    def start(self, image: str, chute: str) -> str:
        """A container labelled as ``up`` labels the chute's container."""
        name = f"cbt-{uuid.uuid4().hex[:12]}"
        labels = [f"--label=chutes-build.workspace={scope_id(str(self.root))}",
                  f"--label=chutes-build.chute={chute}"]  # fmt: skip
        subprocess.run([self.docker, "run", "--detach", "--network=none", "--name", name,
                        *labels, image, "sh", "-c", SCRIPT], check=True,
                       capture_output=True)  # fmt: skip
        self.containers.append(name)
        for _ in range(100):  # until its first lines are in the log
            if "on-stderr" in self.docker_logs(name):
                break
            time.sleep(0.05)
        return name

    def docker_logs(self, name: str) -> str:
        done = subprocess.run([self.docker, "logs", name], capture_output=True, text=True)
        return done.stdout + done.stderr


@pytest.fixture
def repo(tmp_path, docker_engine, busybox_image):
    root = tmp_path / "ws"
    (root / "chutes").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(base=busybox_image))
    made = Repo(root, docker_engine)
    (root / "chutes" / "one.py").write_text(CHUTE.format(name=made.name))
    yield made
    if made.containers:
        subprocess.run([docker_engine, "rm", "--force", *made.containers], capture_output=True)


def test_issue_15_logs_shows_the_running_containers_output(repo, busybox_image) -> None:
    repo.start(busybox_image, repo.name)
    result = repo.cli("logs", repo.name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["first-line", "second-line", "on-stderr"] or (
        sorted(result.stdout.splitlines()) == ["first-line", "on-stderr", "second-line"]
    )


def test_issue_15_logs_tail_shows_the_last_lines(repo, busybox_image) -> None:
    repo.start(busybox_image, repo.name)
    result = repo.cli("logs", "--tail", "1", repo.name)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_issue_15_logs_follow_streams_new_lines_and_ctrl_c_ends_it(repo, busybox_image) -> None:
    container = repo.start(busybox_image, repo.name)
    proc = subprocess.Popen(repo.argv("logs", "-f", repo.name), cwd=repo.root, env=repo.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        seen = [proc.stdout.readline() for _ in range(3)]
        assert "first-line\n" in seen, seen
        subprocess.run([repo.docker, "exec", container, "sh", "-c",
                        "echo printed-after-start > /proc/1/fd/1"], check=True)  # fmt: skip
        assert proc.stdout.readline() == "printed-after-start\n"
        assert proc.poll() is None  # still following
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    stderr = proc.stderr.read()
    assert code == 0, stderr
    assert "Traceback" not in stderr


def test_issue_15_logs_of_an_unknown_chute_says_the_closest(repo, busybox_image) -> None:
    repo.start(busybox_image, repo.name)
    result = repo.cli("logs", repo.name[:-1] + "x")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.match(
        rf"^error: <command line>: no chute named '{repo.name[:-1]}x' runs here\n"
        rf"  fix: did you mean '{repo.name}'\?",
        result.stderr,
    ), result.stderr


def test_issue_15_logs_of_a_chute_without_a_container_says_how_to_start_it(repo) -> None:
    assert repo.cli("ls").returncode == 0  # the chute is known (evaluated)
    result = repo.cli("logs", repo.name)
    assert result.returncode == 1
    assert re.match(
        rf"^error: <command line>: chute '{repo.name}' has no container here\n"
        rf"  fix: start it with `chutes-build up {repo.name}`",
        result.stderr,
    ), result.stderr


def test_issue_15_logs_build_labels_each_log_with_its_steps(repo) -> None:
    built = repo.cli("build")
    assert built.returncode == 0, built.stderr
    result = repo.cli("logs", "--build", repo.name)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(rf"build of t/{repo.name}:1: steps 2-3 of 3", out), out
    assert f"step 2/3: RUN echo building-{repo.name}" in out
    assert f"step 3/3: ENV STAGE={repo.name}" in out
    assert f"building-{repo.name}" in out.split("step 3/3", 1)[1]  # the log itself
    assert not re.search(r"\(\w{12}\)", out)  # no hex keys as headings


def test_issue_15_ps_and_the_build_summary_at_80_columns(repo, busybox_image) -> None:
    from tests.cli.conftest import _env
    from tests.conftest import run_cli

    long_name = f"{repo.name}-with-a-rather-long-chute-name"
    container = repo.start(busybox_image, long_name)
    env = {**_env(), "CHUTES_BUILD_DOCKER": repo.docker}
    ps = run_cli(["ps"], cwd=repo.root, env=env, width=80)
    assert ps.code == 0, ps.stderr
    lines = ps.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, ps.stdout
    at = next(i for i, line in enumerate(lines) if "running" in line)
    assert re.match(r"^\S+-\s+running\s+-\s+not running\s+\d+s\s+0\s*$", lines[at]), lines
    # The name folds after its dashes, each piece whole, and reads back in full.
    folded = [line.split()[0] for line in lines[at : at + 3] if line.strip()]
    assert "".join(folded) == long_name, lines
    assert container
    built = run_cli(["build"], cwd=repo.root, env=env, width=80)
    assert built.code == 0, built.stderr
    lines = built.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, built.stdout
    assert re.search(rf"^t/{repo.name}:1\s+built\s+{repo.name}:1\s+{repo.name}\s*$",
                     built.stdout, re.M), built.stdout  # fmt: skip
