"""Shell completion: the bash script typer installs, and chute names for PATHS read from
the evaluation cache without importing a chute file."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.conftest import _env
from tests.conftest import run_cli

CHUTE = """\
import pathlib
from chutes_build import Chute, Image

pathlib.Path(__file__).with_name("imported-{name}").write_text("yes")
image = Image(username="t", name="{name}", tag="1").run_command("echo {name}")
chute = Chute(username="t", name="{name}", image=image)
"""


@pytest.fixture
def repo(workspace):
    return workspace(extra={
        "chutes/typed_echo.py": CHUTE.format(name="typed-echo"),
        "chutes/ticker.py": CHUTE.format(name="ticker"),
        "chutes/tools/other.py": CHUTE.format(name="tools-other"),
    })  # fmt: skip


def _complete(root, line: str) -> list[str]:
    """What bash's completion function gets back for ``line`` (the cursor at its end)."""
    words = line.split(" ")
    env = {**_env(), "_CHUTES_BUILD_COMPLETE": "complete_bash", "COMP_WORDS": line,
           "COMP_CWORD": str(len(words) - 1)}  # fmt: skip
    result = run_cli([], cwd=root, env=env)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout.split()


def test_issue_15_chute_names_complete_from_the_cache_without_imports(repo) -> None:
    assert _complete(repo, "chutes-build up ty") == []  # nothing evaluated yet: no names
    assert run_cli(["ls"], cwd=repo, env=_env()).code == 0
    for marker in repo.glob("chutes/**/imported-*"):
        marker.unlink()
    assert _complete(repo, "chutes-build up ty") == ["typed-echo"]
    assert _complete(repo, "chutes-build plan t") == ["ticker", "tools-other", "typed-echo"]
    assert not list(repo.glob("chutes/**/imported-*"))  # completion imported nothing


def test_issue_15_paths_complete_files_and_folders_too(repo) -> None:
    assert _complete(repo, "chutes-build ls chutes/t") == [
        "chutes/ticker.py", "chutes/tools/", "chutes/typed_echo.py",
    ]  # fmt: skip
    assert "pyproject.toml" in _complete(repo, "chutes-build build ")


def test_issue_15_commands_and_options_complete(repo) -> None:
    assert _complete(repo, "chutes-build pl") == ["plan"]
    assert "--keep-going" in _complete(repo, "chutes-build build --k")


def test_issue_15_completion_outside_a_workspace_offers_files_only(tmp_path) -> None:
    (tmp_path / "a_chute.py").write_text("")
    assert _complete(tmp_path, "chutes-build ls a") == ["a_chute.py"]


def test_issue_15_show_completion_prints_the_bash_script(tmp_path) -> None:
    result = run_cli(["--show-completion", "bash"], cwd=tmp_path, env=_env())
    assert result.code == 0, result.stderr
    assert "_CHUTES_BUILD_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _chutes_build_completion chutes-build" in result.stdout


def test_issue_15_install_completion_writes_the_bash_script(tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**_env(), "HOME": str(home), "SHELL": "/bin/bash"}
    proc = subprocess.run([sys.executable, "-m", "chutes_build.cli", "--install-completion",
                           "bash"], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    script = home / ".bash_completions" / "chutes-build.sh"
    assert "_chutes_build_completion" in script.read_text()
    assert f"source '{script}'" in (home / ".bashrc").read_text()
    bash = subprocess.run(["bash", "-c", f"source '{script}'; complete -p chutes-build"],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert bash.stdout.strip() == "complete -o default -F _chutes_build_completion chutes-build"
