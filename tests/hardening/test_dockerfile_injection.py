"""No value passed to an Image builder can add or change a Dockerfile instruction.

For each builder, hypothesis feeds hostile strings; the result is either a
``DefinitionError`` that names the value and a fix, or a Dockerfile that
BuildKit's parser reads as exactly the instructions meant (the FROM, the one
directive with the values passed, and a sentinel RUN after it that nothing
swallowed). Where the SDK's own text for the value already means that, ours
must be byte-identical to it.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from chutes_build import DefinitionError

from ._model import (
    BASE,
    FUZZ,
    SENTINEL,
    Unparsable,
    build,
    docker_word,
    dockerfile_with,
    ends_in_backslash,
    hostile,
    meant_run,
    mostly_plain,
    parse,
    sdk_line,
    shell_meaning_ok,
)

#: Names a shell can reference; the SDK also lets through non-ASCII letters (its
#: pattern is Unicode) and we do not.
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEYWORD = {"set_user": "USER", "set_workdir": "WORKDIR", "with_maintainer": "MAINTAINER"}


def means(method: str, args: tuple, instruction: tuple) -> bool:
    """Whether one parsed instruction is exactly what ``Image.<method>(*args)`` means."""
    cmd, values, extra = instruction
    if extra["heredocs"] or extra["flags"]:
        return False
    if method == "with_env":
        key, value = args
        return (
            cmd == "ENV" and _SHELL_NAME.fullmatch(key) is not None
            and len(values) == 2 and values[0] == key
            and docker_word(values[1]) == str(value) and shell_meaning_ok(str(value))
        )  # fmt: skip
    if method == "run_command":
        meant = meant_run(args[0])
        return cmd == "RUN" and not extra["json"] and bool(meant) and values == (meant,)
    if method == "with_entrypoint":
        return cmd == "ENTRYPOINT" and extra["json"] and values == tuple(args[0])
    if method in ("set_user", "set_workdir"):
        (value,) = args
        word_ok = docker_word(value) == value and shell_meaning_ok(value)
        return cmd == KEYWORD[method] and values == (value,) and word_ok
    return cmd == KEYWORD[method] and values == args


def means_all(method: str, args: tuple, text: str) -> bool:
    try:
        parsed = parse(text)
    except Unparsable:
        return False
    if len(parsed) != 3 or parsed[0][:2] != ("FROM", (BASE,)) or parsed[2][:2] != SENTINEL:
        return False
    return means(method, args, parsed[1])


#: Rejected on purpose even where BuildKit would read them verbatim: C0 controls
#: (tab aside), DEL and lone surrogates are never meant in a Dockerfile, and a
#: ``\r`` before a line end is silently dropped by BuildKit.
_NEVER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_NEVER_RUN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def sdk_safe(method: str, *args: Any) -> bool:
    """Whether the SDK's own line already means exactly what was passed."""
    flat = [x for a in args for x in (a if isinstance(a, list) else [str(a)])]
    never = _NEVER_RUN if method == "run_command" else _NEVER
    if any(never.search(v) for v in flat):
        return False
    if method == "run_command":
        *middle, last = args[0].split("\n")
        if ends_in_backslash(last) or any(line.endswith("\\\\") for line in middle):
            return False
        if "<<" in args[0] and "$" in args[0]:
            # A '$' syntax error makes BuildKit's lexer give up on the line, and
            # then it sees no heredoc; ours rejects '<<WORD' words regardless.
            return False
    elif method != "with_env" and any(ends_in_backslash(v) for v in flat):
        return False
    return means_all(method, args, dockerfile_with(sdk_line(method, *args)))


def check(method: str, *args: Any) -> None:
    result = build(method, *args)
    safe = sdk_safe(method, *args)
    if isinstance(result, DefinitionError):
        assert not safe, f"rejected a value the SDK renders safely: {result}"
        assert result.fix, result
        shown = [x for a in args for x in (a if isinstance(a, list) else [a])]
        blank = any(not str(a).strip() for a in shown)
        assert blank or any(repr(a)[1:-1][:40] in result.message for a in shown), result
        return
    text = str(result)
    assert means_all(method, args, text), text
    if safe:
        assert "\n".join(text.split("\n")[1:-1]) == sdk_line(method, *args)


@FUZZ
@given(value=hostile)
@example(value="x\nRUN evil")
@example(value="/opt/python/bin:$PATH")
@example(value="a b")
@example(value='say "hi" \\o/')
@example(value="${A:-x y}")
@example(value="\u2028")
def test_env_values(value: str) -> None:
    check("with_env", "KEY", value)


@FUZZ
@given(key=hostile, value=mostly_plain)
@example(key="A\n", value="x")
@example(key="A=B", value="x")
def test_env_keys(key: str, value: str) -> None:
    check("with_env", key, value)


@FUZZ
@given(command=hostile)
@example(command="echo hi \\")
@example(command="echo a \\\n\n")
@example(command="echo a \\\n# c\n b")
@example(command="apt-get update && \\\n    apt-get install -y git")
@example(command="cat <<EOF > /x")
@example(command='echo "a <<EOF"')
@example(command='["echo", "hi"]')
@example(command="--mount=type=cache,target=/root/.cache pip install x")
@example(command="echo \u00a0")
def test_run_commands(command: str) -> None:
    check("run_command", command)


@FUZZ
@given(method=st.sampled_from(["set_user", "set_workdir", "with_maintainer"]), value=hostile)
@example(method="set_user", value="chutes\\")
@example(method="set_workdir", value="/app \\")
@example(method="with_maintainer", value="me <me@x.io> \\")
@example(method="set_workdir", value="$HOME/app")
@example(method="set_user", value="'root'")
@example(method="set_workdir", value=" /app")
def test_single_value_lines(method: str, value: str) -> None:
    check(method, value)


@FUZZ
@given(args=st.lists(hostile, min_size=1, max_size=4))
@example(args=['["a"]', "b\nRUN x"])
@example(args=["a\x00"])
def test_entrypoint(args: list[str]) -> None:
    check("with_entrypoint", args)
