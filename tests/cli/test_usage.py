"""Usage mistakes on every command: a short message with the fix and exit status 2.

The commands are listed from the command tree itself, so a command added later is
covered without touching this file. Each case fails while parsing, before the command
runs, so nothing here builds or deploys.
"""

from __future__ import annotations

import re

import pytest
import typer.main

from chutes_build.cli import app
from tests.conftest import run_cli


def _leaves(command, path=()):
    subs = getattr(command, "commands", None)
    if subs is None:
        yield path, command
        return
    for name, sub in sorted(subs.items()):
        yield from _leaves(sub, (*path, name))


COMMANDS = list(_leaves(typer.main.get_command(app)))
REQUIRED = [(p, c) for p, c in COMMANDS if any(x.required for x in c.params)]
NUMERIC = [
    (p, opt)
    for p, c in COMMANDS
    for opt in c.params
    if getattr(opt, "param_type_name", "") == "option"
    and getattr(opt.type, "name", "") in ("integer", "float")
]


def _ids(cases):
    return [" ".join(p) for p, _ in cases]


def _usage(result, path, what: str) -> None:
    assert result.code == 2, (result.code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    command = " ".join(["chutes-build", *path])
    assert re.match(rf"^error: {what}", lines[0]), lines
    assert lines[1] == f"  fix: see `{command} --help` for its arguments and options"


def test_issue_15_the_tree_has_the_commands_a_user_reaches_for():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"ls", "plan", "build", "up", "down", "logs", "why", "run", "cache gc"} <= names
    assert REQUIRED and NUMERIC  # the parametrised cases below are not empty


@pytest.mark.parametrize("path, command", COMMANDS, ids=_ids(COMMANDS))
def test_issue_15_an_unknown_option_is_a_usage_error(path, command, tmp_path):
    result = run_cli([*path, "--no-such-flag"], cwd=tmp_path)
    _usage(result, path, r"no such option: --no-such-flag")


@pytest.mark.parametrize("path, command", REQUIRED, ids=_ids(REQUIRED))
def test_issue_15_a_missing_argument_is_a_usage_error(path, command, tmp_path):
    result = run_cli(list(path), cwd=tmp_path)
    _usage(result, path, r"missing (argument [A-Z]|option --)")


@pytest.mark.parametrize(
    "path, option", NUMERIC, ids=[f"{' '.join(p)} {o.opts[0]}" for p, o in NUMERIC]
)
def test_issue_15_a_malformed_number_is_a_usage_error(path, option, tmp_path):
    required = [a for x in _command(path).params if x.required for a in _filler(x)]
    result = run_cli([*path, *required, option.opts[0], "zero"], cwd=tmp_path)
    _usage(result, path, rf"invalid value for '{re.escape(option.opts[0])}'")


def _command(path):
    return dict(COMMANDS)[path]


def _filler(param) -> list[str]:
    """A well-formed value for a required parameter, so the malformed one is what fails."""
    if getattr(param, "param_type_name", "") == "option":
        return [param.opts[0], "x"]
    return ["x"]


def test_issue_15_an_unknown_command_and_a_missing_option_value(tmp_path):
    _usage(run_cli(["bogus"], cwd=tmp_path), (), r"no such command 'bogus'")
    _usage(run_cli(["up", "--target"], cwd=tmp_path), ("up",), r"option '--target' requires")
    _usage(
        run_cli(["cache", "gc", "--max-size"], cwd=tmp_path),
        ("cache", "gc"),
        r"option '--max-size'",
    )


def test_issue_15_a_group_without_its_command_shows_its_help(tmp_path):
    result = run_cli(["keys"], cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "create" in result.stdout + result.stderr and "error:" not in result.stderr
