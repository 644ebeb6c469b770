"""Chutes picked by name wherever PATHS is taken: names, globs over names, files and
folders, mixed; what matches nothing says so with the closest names."""

from __future__ import annotations

import json
import re

import pytest

CHUTE = """\
from chutes_build import Chute, Image

image = Image(username="t", name="{name}", tag="1").run_command("echo {name}")
chute = Chute(username="t", name="{name}", image=image)

@chute.cord(public_api_path="/go")
async def go(self, text: str) -> str:
    return text
"""

TWO = """\
from chutes_build import Chute, Image

image = Image(username="t", name="pair", tag="1").run_command("echo pair")
left = Chute(username="t", name="left-echo", image=image)
right = Chute(username="t", name="right", image=image)
"""

FILES = {
    "chutes/tools/typed_echo.py": CHUTE.format(name="typed-echo"),
    "chutes/tools/plain_echo.py": CHUTE.format(name="plain-echo"),
    "chutes/llm/qwen.py": CHUTE.format(name="qwen"),
    "chutes/pair.py": TWO,
}


@pytest.fixture
def repo(workspace):
    return workspace(extra=FILES)


def _names(cli, root, *args: str) -> list[str]:
    result = cli("ls", "--json", *args, cwd=root)
    assert result.code == 0, result.stderr
    return sorted(row["name"] for row in json.loads(result.stdout)["chutes"])


def test_issue_15_a_chute_name_selects_that_chute(cli, repo) -> None:
    assert _names(cli, repo, "typed-echo") == ["typed-echo"]


def test_issue_15_a_name_selects_its_chute_not_the_whole_file(cli, repo) -> None:
    assert _names(cli, repo, "right") == ["right"]
    result = cli("plan", "--json", "right", cwd=repo)
    chutes = {c for node in json.loads(result.stdout)["nodes"] for c in node["chutes"]}
    assert chutes == {"right"}


def test_issue_15_a_glob_over_names(cli, repo) -> None:
    assert _names(cli, repo, "*-echo") == ["left-echo", "plain-echo", "typed-echo"]


def test_issue_15_names_files_and_folders_mixed(cli, repo) -> None:
    got = _names(cli, repo, "qwen", "chutes/pair.py", "chutes/tools")
    assert got == ["left-echo", "plain-echo", "qwen", "right", "typed-echo"]
    assert _names(cli, repo, "chutes/llm", "right") == ["qwen", "right"]


def test_issue_15_an_unknown_name_says_the_closest(cli, repo) -> None:
    result = cli("ls", "typed-ecko", cwd=repo)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert re.match(
        r"^error: <command line>: no chute, file or folder matches 'typed-ecko'\n"
        r"  fix: did you mean 'typed-echo'\?",
        result.stderr,
    ), result.stderr


def test_issue_15_a_name_nothing_is_close_to_lists_the_names(cli, repo) -> None:
    result = cli("plan", "zzz", cwd=repo)
    assert result.code == 1
    assert re.match(
        r"^error: <command line>: no chute, file or folder matches 'zzz'\n"
        r"  fix: name a chute \(left-echo, plain-echo, qwen, right, typed-echo\)",
        result.stderr,
    ), result.stderr


def test_issue_15_a_glob_that_matches_nothing_is_an_error(cli, repo) -> None:
    result = cli("ls", "*-nothing", cwd=repo)
    assert result.code == 1
    assert re.match(r"^error: <command line>: no chute, file or folder matches '\*-nothing'",
                    result.stderr)  # fmt: skip


def test_issue_15_a_missing_path_names_the_closest_file(cli, repo) -> None:
    result = cli("ls", "chutes/tools/typed_eco.py", cwd=repo)
    assert result.code == 1
    assert re.match(
        r"^error: <command line>: no such file or folder: chutes/tools/typed_eco\.py\n"
        r"  fix: did you mean 'chutes/tools/typed_echo\.py'",
        result.stderr,
    ), result.stderr


def test_issue_15_a_name_that_is_also_a_path_is_the_path(cli, repo) -> None:
    (repo / "qwen").mkdir()
    (repo / "qwen" / "inner.py").write_text(CHUTE.format(name="inner"))
    assert _names(cli, repo, "qwen") == ["inner"]


def test_issue_15_naming_a_cached_chute_imports_no_other_file(cli, repo) -> None:
    assert cli("plan", cwd=repo).code == 0  # every file evaluated and cached
    for rel in ("chutes/tools/plain_echo.py", "chutes/llm/qwen.py"):
        (repo / rel).write_text((repo / rel).read_text() + "\n# edited\n")
    result = cli("plan", "--json", "typed-echo", cwd=repo)
    assert json.loads(result.stdout)["summary"]["imported"] == 0
    (repo / "chutes/tools/typed_echo.py").write_text(CHUTE.format(name="typed-echo") + "\n#\n")
    result = cli("plan", "--json", "typed-echo", cwd=repo)
    assert json.loads(result.stdout)["summary"]["imported"] == 1  # only its own file


def test_issue_15_a_name_moved_to_another_file_is_found_there(cli, repo) -> None:
    assert cli("plan", cwd=repo).code == 0
    (repo / "chutes/tools/typed_echo.py").write_text(CHUTE.format(name="renamed"))
    (repo / "chutes/llm/qwen.py").write_text(CHUTE.format(name="typed-echo"))
    result = cli("ls", "--json", "typed-echo", cwd=repo)
    rows = json.loads(result.stdout)["chutes"]
    assert [(r["name"], r["file"]) for r in rows] == [("typed-echo", "chutes/llm/qwen.py")]


def test_issue_15_a_glob_sees_chutes_the_cache_does_not_know(cli, repo) -> None:
    assert cli("plan", cwd=repo).code == 0
    (repo / "chutes/new_echo.py").write_text(CHUTE.format(name="new-echo"))
    assert "new-echo" in _names(cli, repo, "*-echo")
    assert _names(cli, repo, "new-echo") == ["new-echo"]


def test_issue_15_an_unrelated_broken_file_does_not_fail_a_named_chute(cli, repo) -> None:
    broken = "from chutes_build import Chute\nraise KeyError('x')\nchute = Chute()\n"
    (repo / "chutes/broken.py").write_text(broken)
    assert _names(cli, repo, "qwen") == ["qwen"]
    result = cli("ls", "nothing-here", cwd=repo)
    assert result.code == 1
    assert "1 file(s) failed to load and may define it: chutes/broken.py" in result.stderr


@pytest.mark.parametrize("command", ["ls", "plan", "graph", "build", "up", "down"])
def test_issue_15_every_paths_command_takes_names(cli, repo, command: str) -> None:
    result = cli(command, "typed-ecko", cwd=repo)
    assert result.code == 1, (result.stdout, result.stderr)
    assert re.match(r"^error: <command line>: no chute, file or folder matches 'typed-ecko'",
                    result.stderr), result.stderr  # fmt: skip


def test_issue_15_dockerfile_takes_a_chute_name(cli, repo) -> None:
    by_name = cli("dockerfile", "right", cwd=repo)
    by_file = cli("dockerfile", "chutes/pair.py:right", cwd=repo)
    assert by_name.code == 0, by_name.stderr
    assert by_name.stdout == by_file.stdout and "RUN echo pair" in by_name.stdout
    wrong = cli("dockerfile", "rihgt", cwd=repo)
    assert wrong.code == 1
    assert re.match(r"^error: <command line>: no chute, file or folder matches 'rihgt'\n"
                    r"  fix: did you mean 'right'\?", wrong.stderr), wrong.stderr  # fmt: skip
