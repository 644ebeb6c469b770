"""A generated monorepo of chutes sharing base layers, driven through the real CLI.

Builds go to the real engine through a wrapper in front of the docker client
(``$CHUTES_BUILD_DOCKER``) that logs each invocation's argv and Dockerfile, so
tests count ``docker build`` calls per layer tag.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
port-base = {port}
base-images = {{ "parachutes/python:3.12" = "{base}" }}
"""

COMMON = """\
from chutes_build import Image

def base(name):
    return (
        Image(username="t", name=name, tag="1")
        .from_base("parachutes/python:3.12")
        .with_env("SHARED", "{run}")
        .run_command("mkdir -p /app && echo shared > /app/shared")
    )
"""

CHUTE = """\
from common.base import base
from chutes_build import Chute

image = base("{prefix}-{name}").run_command("{step}")
chute = Chute(username="t", name="{prefix}-{name}", image=image)

GREETING = "{greeting}"

@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"chute": "{name}", "greeting": GREETING, "text": text}}
"""

WRAPPER = """\
#!/usr/bin/env bash
# Log each docker invocation (argv, then the Dockerfile given with -f), then run it.
{{ echo "ARGV $*"; }} >> "{log}"
args=("$@")
for ((i = 0; i < ${{#args[@]}}; i++)); do
    if [[ "${{args[$i]}}" == "-f" ]]; then sed 's/^/DF /' "${{args[$((i + 1))]}}" >> "{log}"; fi
done
exec "{docker}" "$@"
"""


def free_port_base(count: int = 10) -> int:
    """A base port with ``count`` free ports above it (checked by binding)."""
    for _ in range(50):
        base = random.randrange(20000, 29000, 10)
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range found")


@dataclass
class Monorepo:
    root: Path
    docker: str
    log: Path
    prefix: str
    names: list[str]
    runs: list[dict] = field(default_factory=list)

    def write_chute(self, name: str, step: str | None = None, greeting: str = "hello") -> None:
        step = step or f"echo {name} > /app/name"
        text = CHUTE.format(prefix=self.prefix, name=name, step=step, greeting=greeting)
        (self.root / "chutes" / f"{name}.py").write_text(text)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
        env["CHUTES_BUILD_DOCKER"] = str(self.root / "docker-wrapper")
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "chutes_build.cli", *args], cwd=self.root, env=self.env(),
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"chutes-build {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
        return proc

    def up(self) -> dict:
        """``up --json``: its summary, and the docker builds it ran (by tag)."""
        start = self.log.stat().st_size if self.log.exists() else 0
        proc = self.cli("up", "--target", "local", "--json")
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        assert "summary" in lines[-1], proc.stdout[-2000:]
        summary = lines[-1]["summary"]
        summary["builds"] = self.builds(start)
        summary["states"] = {row["chute"].removeprefix(f"{self.prefix}-"): row["state"]
                             for row in summary["chutes"]}  # fmt: skip
        self.runs.append(summary)
        return summary

    def builds(self, start: int = 0) -> list[str]:
        """The ``-t`` tag of every ``docker build`` logged since byte ``start``."""
        if not self.log.exists():
            return []
        with open(self.log) as handle:
            handle.seek(start)
            text = handle.read()
        tags = []
        for line in text.splitlines():
            words = line.split()
            if line.startswith("ARGV ") and "build" in words and "--iidfile" in words:
                tags.append(words[words.index("-t") + 1])
        return tags

    def containers(self) -> dict[str, tuple[str, str]]:
        """``{chute: (container id, start time)}`` of the running chutes."""
        found = {}
        for row in self.runs[-1]["chutes"]:
            if not row.get("url"):
                continue
            name = row["chute"].removeprefix(f"{self.prefix}-")
            proc = subprocess.run(
                [self.docker, "ps", "--filter", f"label=chutes-build.chute={row['chute']}",
                 "--format", "{{.ID}}", "--no-trunc"], capture_output=True, text=True,
            )  # fmt: skip
            ids = proc.stdout.split()
            if ids:
                started = subprocess.run(
                    [self.docker, "inspect", "--format", "{{.State.StartedAt}}", ids[0]],
                    capture_output=True, text=True,
                ).stdout.strip()  # fmt: skip
                found[name] = (ids[0], started)
        return found

    def url(self, name: str) -> str:
        rows = {r["chute"]: r for r in self.runs[-1]["chutes"]}
        return rows[f"{self.prefix}-{name}"]["url"]

    def cleanup(self) -> None:
        """Remove the containers, the ``name:tag`` images and every tag a build made."""
        self.cli("down", "--target", "local", check=False)
        listed = subprocess.run(
            [self.docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}",
             "--filter", f"reference={self.prefix}-*"], capture_output=True, text=True,
        )  # fmt: skip
        refs = set(listed.stdout.split()) | set(self.builds())
        if refs:
            subprocess.run([self.docker, "rmi", "--force", *sorted(refs)], capture_output=True)


def make_monorepo(tmp_path: Path, docker: str, base: str, names: list[str]) -> Monorepo:
    prefix = "cbt" + uuid.uuid4().hex[:8]
    root = tmp_path / "ws"
    (root / "chutes").mkdir(parents=True)
    (root / "common").mkdir()
    (root / "common" / "__init__.py").write_text("")
    # A per-run value in the shared layers: the first build really builds them.
    (root / "common" / "base.py").write_text(COMMON.format(run=prefix))
    (root / "pyproject.toml").write_text(PYPROJECT.format(port=free_port_base(), base=base))
    log = tmp_path / "docker.log"
    wrapper = root / "docker-wrapper"
    wrapper.write_text(WRAPPER.format(log=log, docker=docker))
    wrapper.chmod(0o755)
    repo = Monorepo(root, docker, log, prefix, names)
    for name in names:
        repo.write_chute(name)
    return repo


@pytest.fixture
def monorepo(tmp_path, docker_engine, python_base_image):
    """Three chutes sharing their first layers (containers removed afterwards)."""
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two", "three"])
    yield repo
    repo.cleanup()


def chute_text(repo: Monorepo, name: str) -> str:
    return textwrap.dedent((repo.root / "chutes" / f"{name}.py").read_text())
