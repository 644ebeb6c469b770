# ruff: noqa: E501 - one case per line reads best in the regression table
"""Issue 7: each hole the fuzzers found, pinned with an anchored message.

Before the fix every one of these either reached the Dockerfile (adding,
swallowing or changing an instruction) or raised something other than a
``DefinitionError``.
"""

from __future__ import annotations

import re

import pytest

from chutes_build import Chute, DefinitionError, Image, NodeSelector

URL = "https://example.com/x"


def base() -> Image:
    return Image(username="u", name="app", tag="1")


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda i: i.set_user("chutes\\"), r"^.*: user 'chutes\\\\' ends with a backslash"),
        (lambda i: i.with_maintainer("me \\"), r"^.*: maintainer 'me \\\\' ends with a backslash"),
        (lambda i: i.set_user("--x"), r"^.*: user '--x' starts with '--'"),
        (lambda i: i.set_workdir("'/app'"), r"^.*: workdir \"'/app'\" contains the character \"'\""),
        (lambda i: i.set_workdir(" /app"), r"^.*: workdir ' /app' starts or ends with whitespace"),
        (lambda i: i.run_command("echo a \\"), r"^.*: run_command\(\) 'echo a \\\\' ends with a backslash"),
        (lambda i: i.run_command("a \\\n\n"), r"^.*: run_command\(\) .* continues onto an empty or comment line"),
        (lambda i: i.run_command("a \\\n# c \\\n"), r"^.*: run_command\(\) .* continues onto an empty or comment line at its end"),
        (lambda i: i.run_command("a\\\\\nb"), r"^.*: run_command\(\) .* contains a line ending in several backslashes"),
        (lambda i: i.run_command("cat <<EOF > /x"), r"^.*: run_command\(\) .* opens the heredoc '<<EOF'"),
        (lambda i: i.run_command('["echo", "hi"]'), r"^.*: run_command\(\) .* is a JSON array"),
        (lambda i: i.run_command("--mount=type=cache,target=/c pip i x"), r"^.*: run_command\(\) .* starts with '--'"),
        (lambda i: i.run_command("echo\u00a0"), r"^.*: run_command\(\) .* non-ASCII space"),
        (lambda i: i.with_env("A", "${B"), r"^.*: value of A '\$\{B' has a '\$\{' at offset 0"),
        (lambda i: i.with_env("A", "x\ry"), r"^.*: value of A 'x\\ry' contains a line break or control"),
        (lambda i: i.with_env("A\n", "x"), r"^.*: invalid environment variable name 'A\\n'"),
        (lambda i: i.apt_install("git\n"), r"^.*: invalid apt package 'git\\n'"),
        (lambda i: i.from_base("--x/y"), r"^.*: invalid image reference '--x/y'"),
        (lambda i: i.from_base("python:3.12\n"), r"^.*: invalid image reference 'python:3\.12\\n'"),
        (lambda i: i.add(URL, "/a\tb"), r"^.*: add\(\) source and destination must be non-empty and contain no spaces"),
        (lambda i: i.add(URL, "<<EOF"), r"^.*: add\(\) destination '<<EOF' would be read as a flag, a JSON array or a heredoc"),
        (lambda i: i.add(URL, '"/x"'), r"^.*: add\(\) destination '\"/x\"' contains the character '\"'"),
        (lambda i: i.add(URL, "/x", chmod="755\n"), r"^.*: invalid add\(\) chmod option '755\\n'"),
        (lambda i: i.with_entrypoint(["a\x00"]), r"^.*: with_entrypoint\(\) argument 'a\\x00' contains '\\x00'"),
    ],
)  # fmt: skip
def test_issue7_hostile_value_is_a_definition_error(call, pattern: str) -> None:
    with pytest.raises(DefinitionError) as info:
        call(base())
    assert re.match(pattern, str(info.value)), str(info.value)
    assert info.value.fix


def test_issue7_image_name_with_trailing_newline() -> None:
    with pytest.raises(DefinitionError, match=r"^.*: invalid image name 'app\\n'"):
        Image(username="u", name="app\n", tag="1")


@pytest.mark.parametrize("field", ["username", "name"])
def test_issue7_chute_names_must_be_utf8(field: str) -> None:
    """A lone surrogate used to crash ``chute.uid`` with UnicodeEncodeError."""
    kwargs = {"username": "u", "name": "app", field: "\ud800"}
    with pytest.raises(DefinitionError, match=rf"^.*: invalid chute {field} '\\ud800'"):
        Chute(image="python:3.12", **kwargs)


def test_issue7_node_selector_non_list_is_a_definition_error() -> None:
    with pytest.raises(
        DefinitionError, match=r"^.*: node selector include must be a list of GPU names, got 5"
    ):
        NodeSelector(include=5)  # was: TypeError 'int' object is not iterable


@pytest.mark.parametrize(
    ("call", "line"),
    [
        (lambda i: i.with_env("PATH", "/opt/python/bin:$PATH"), "ENV PATH=/opt/python/bin:$PATH"),
        (lambda i: i.with_env("A", "a b"), 'ENV A="a b"'),
        (lambda i: i.with_env("A", 'x"\\'), 'ENV A="x\\"\\\\"'),
        (lambda i: i.with_env("A", "${B:-x y}"), 'ENV A="${B:-x y}"'),
        (lambda i: i.run_command("a && \\\n  b"), "RUN a && \\\n  b"),
        (lambda i: i.run_command('echo "a <<EOF"'), 'RUN echo "a <<EOF"'),
        (lambda i: i.set_workdir("$HOME/app"), "WORKDIR $HOME/app"),
    ],
)  # fmt: skip
def test_issue7_safe_values_keep_the_sdk_text(call, line: str) -> None:
    assert str(call(base())).split("\n", 1)[1] == line
