"""A small monorepo of chutes for the chutes target, and a CLI runner against the stand-in.

The workspace has two images (one of them shared by two chutes) with local files
added from a folder, a chute with a prebuilt image reference, and a local module
the chutes import. ``Clone.cli`` runs the real CLI in a subprocess with
``CHUTES_API_URL`` and ``CHUTES_CONFIG_PATH`` pointing at the stand-in and a
temporary config.ini; it checks that the hotkey seed never reaches the output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from chutes_build.platform import PlatformSettings, Signer, write_config

SEED = "5e" * 32

PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
"""

SHARED = """\
from chutes_build import Image

def image(name, tag="1.0"):
    return (
        Image(username="alice", name=name, tag=tag)
        .apt_install(["git"])
        .add("../app", "/app")
        .run_command("pip install -r /app/requirements.txt")
    )
"""

CHUTE = """\
from chutes_build import Chute, NodeSelector
from common.images import image

img = image("{image}")
chute = Chute(username="alice", name="{name}", image=img,
              node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu={vram}))

GREETING = "{greeting}"

@chute.cord()
async def echo(self, text: str) -> str:
    return GREETING + text
"""

PREBUILT = """\
from chutes_build import Chute, NodeSelector

chute = Chute(username="alice", name="gamma", image="alice/base:1.0",
              node_selector=NodeSelector(gpu_count=1))

@chute.cord()
async def echo(self, text: str) -> str:
    return text
"""


def write_workspace(root: Path) -> Path:
    (root / "chutes").mkdir(parents=True)
    (root / "common").mkdir()
    (root / "app").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "common" / "__init__.py").write_text("")
    (root / "common" / "images.py").write_text(SHARED)
    (root / "app" / "requirements.txt").write_text("msgspec\n")
    (root / "app" / "main.py").write_text("print('hi')\n")
    write_chute(root, "alpha", image="imga", vram=16)
    write_chute(root, "beta", image="imga", vram=24)
    write_chute(root, "delta", image="imgb", vram=48)
    return root


def write_chute(root: Path, name: str, *, image: str, vram: int, greeting: str = "hi ") -> None:
    text = CHUTE.format(name=name, image=image, vram=vram, greeting=greeting)
    (root / "chutes" / f"{name}.py").write_text(text)


def write_config_for(standin, path: Path, username: str = "alice", seed: str = SEED) -> Path:
    signer = Signer(seed)
    user = standin.state.user_by_hotkey(signer.ss58_address) or standin.state.add_user(
        username, signer.ss58_address
    )
    settings = PlatformSettings(
        base_url=standin.url, user_id=user.user_id, username=username, hotkey_seed=seed,
        hotkey_name="default", hotkey_ss58address=signer.ss58_address,
    )  # fmt: skip
    write_config(settings, str(path))
    return path


@dataclass
class Clone:
    root: Path
    standin: object
    config: Path
    extra_env: dict

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHUTES_", "CI_"))}
        env.update(CHUTES_API_URL=self.standin.url, CHUTES_CONFIG_PATH=str(self.config))
        env.update(self.extra_env)
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "chutes_build.cli", *args], cwd=self.root, env=self.env(),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert SEED not in proc.stdout + proc.stderr
        return proc

    def up(self, *args: str, ok: bool = True) -> dict:
        proc = self.cli("up", "--target", "chutes", "--json", *args)
        if ok:
            assert proc.returncode == 0, proc.stderr[-4000:] + proc.stdout[-4000:]
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        summary = lines[-1]["summary"] if lines and "summary" in lines[-1] else None
        return {"proc": proc, "summary": summary, "events": lines[:-1]}

    def plan(self) -> dict:
        proc = self.cli("plan", "--target", "chutes", "--json")
        assert proc.returncode == 0, proc.stderr[-4000:]
        return json.loads(proc.stdout)


def clone_of(src: Path, dest: Path, standin, config: Path, env: dict | None = None) -> Clone:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".cache"))
    return Clone(dest, standin, config, dict(env or {}))


def posts(standin, path: str) -> int:
    return sum(1 for r in standin.state.requests if r.method == "POST" and r.path == path)
