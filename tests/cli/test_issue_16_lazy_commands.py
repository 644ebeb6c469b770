"""Issue 16: a command imports its own module only, and a warm ``plan`` none of the
heavy libraries it does not use (trio, httpx, networkx, the platform client)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import typer

from chutes_build import cli
from tests.conftest import REPO

CHUTE = """\
from chutes_build import Chute, Image, NodeSelector

image = Image(username="demo", name="lazy", tag="1").run_command("echo hi")
chute = Chute(username="demo", name="lazy", image=image,
              node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24))


@chute.cord(public_api_path="/echo")
async def echo(self, text: str) -> str:
    return text
"""

PROBE = """\
import json, sys
from chutes_build.cli import main
code = main(sys.argv[1:])
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def _workspace(tmp_path):
    tmp_path.mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.chutes-build]\nchutes = ["*.py"]\n')
    (tmp_path / "chute.py").write_text(CHUTE)
    return tmp_path


def _modules_after(args, cwd, cache) -> tuple[dict, set[str]]:
    env = {**os.environ, "CHUTES_BUILD_CACHE_DIR": str(cache), "PYTHONPATH": REPO}
    env = {k: v for k, v in env.items() if not k.endswith("_COMPLETE")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out, _, modules = proc.stdout.rpartition("\nMODULES ")
    return json.loads(out), set(json.loads(modules))


def test_issue_16_each_module_registers_the_commands_the_map_names():
    for module, names in cli._COMMANDS.items():
        app = typer.Typer()
        importlib.import_module(f"chutes_build.cli.{module}").register(app)
        registered = [c.name for c in app.registered_commands]
        registered += [g.name for g in app.registered_groups]
        assert tuple(registered) == names, module
    assert sorted(cli._COMMANDS) == sorted(cli._COMMAND_MODULES)


def test_issue_16_the_whole_app_has_every_command():
    import typer.main

    command = typer.main.get_command(cli.app)
    assert set(command.commands) == set(cli._MODULE_OF)


def test_issue_16_warm_plan_imports_no_trio_httpx_networkx_or_platform(tmp_path):
    root = _workspace(tmp_path / "ws")
    cold, _ = _modules_after(["plan", "--json"], root, tmp_path / "cache")
    assert cold["summary"]["imported"] == 1
    warm, modules = _modules_after(["plan", "--json"], root, tmp_path / "cache")
    assert warm["summary"]["imported"] == 0
    assert warm["summary"]["nodes"] == cold["summary"]["nodes"]
    heavy = {"trio", "httpx", "networkx", "chutes_build.platform", "chutes_build.engine"}
    assert sorted(heavy & modules) == []
    assert "chutes_build.cli._graph" in modules
    assert "chutes_build.cli._build" not in modules


def test_issue_16_top_level_help_still_lists_every_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", "--help"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": REPO, "COLUMNS": "200"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("plan", "up", "chutes", "history", "ps", "startup-logs"):
        assert f" {name} " in proc.stdout, textwrap.shorten(proc.stdout, 400)
