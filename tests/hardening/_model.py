"""What a Dockerfile means, read by BuildKit's own parser, plus the SDK's text.

``parse`` runs the PyPI package ``dockerfile`` (asottile's bindings of
BuildKit's Go parser). The parser keeps ENV/USER/WORKDIR/ADD words raw; BuildKit
removes quotes and escapes later (``shell.Lex.ProcessWord``), which
``docker_word`` models. ``$`` is left as the text's own business in both the
value and the Dockerfile (it expands in both, as in the SDK); an escaped,
literal ``$`` turns into ``LITERAL_DOLLAR`` so it never compares equal.

``sdk_line`` is the line the ``chutes`` 0.6.9 SDK writes for the same call (its
directive classes are f-strings; ``test_sdk_lines_match_the_real_sdk`` checks
these formulas against the real SDK).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import dockerfile
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from chutes_build import DefinitionError, Image

#: Examples per property; ``CHUTES_BUILD_FUZZ_EXAMPLES`` raises it for a long run
#: (bench/fuzz_long.sh).
EXAMPLES = int(os.environ.get("CHUTES_BUILD_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

LITERAL_DOLLAR = "\x00$"
BASE = "parachutes/python:3.12"
SENTINEL = ("RUN", ("echo sentinel",))

# -- hostile strings -----------------------------------------------------------------------

_ALPHABET = (
    "aZ0_/.:=-,@ \t\n\r\\\"'$`{}[]#<>;&|*?~!%()"
    "\x00\x0b\x0c\x1c\x7f\x85\xa0\u2028\u2029\u3000\ufeff\u200béß\U0001f600\ud800"
)
_SNIPPETS = [
    "\nRUN evil", "\r\nUSER root", "\\", "\\\n", "\\ \n", "\\\n\n", "\\\n# comment\n",
    "\\\n  # c\n", "# escape=`", "`", "\n# escape=`\n", "<<EOF", "<<-'EOF'", "2<<X", "cat <<EOF",
    '["a", "b"]', "[]", "${", "${A}", "${A:-x y}", "${A:-'q'}", "$PATH", "$1", "$$", "\\$A",
    "--mount=type=cache,target=/x ", "--", " ", "  ", "\t", "\u2028", "\u00a0", "\x00",
    "=", "A=b", "'", '"', '\\"', "#", "ENV X=1", "&&", "/opt/python/bin:$PATH",
]  # fmt: skip

hostile = st.one_of(
    st.lists(
        st.one_of(st.sampled_from(_SNIPPETS), st.text(alphabet=_ALPHABET, max_size=3)),
        max_size=6,
    ).map("".join),
    st.text(max_size=12),
)
#: Strings most often accepted: a word, sometimes with one hostile piece.
plain = st.from_regex(r"[a-z0-9_./-]{1,10}", fullmatch=True)
mostly_plain = st.one_of(plain, st.tuples(plain, hostile, plain).map("".join), hostile)

# -- parsing -------------------------------------------------------------------------------


class Unparsable(Exception):
    """BuildKit's parser refused the text, or the text cannot be UTF-8."""


def parse(text: str) -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    """``(instruction, values, extras)`` for every instruction BuildKit reads in ``text``."""
    if "\x00" in text:  # the Go parser gets a C string: everything after NUL is lost
        raise Unparsable("NUL")
    try:
        text.encode("utf-8")
        commands = dockerfile.parse_string(text)
    except (UnicodeEncodeError, dockerfile.GoParseError) as exc:
        raise Unparsable(str(exc)) from exc
    return [
        (c.cmd.upper(), c.value, {"flags": c.flags, "json": c.json, "heredocs": c.heredocs})
        for c in commands
    ]


def docker_word(word: str) -> str | None:
    """The text BuildKit makes of one word (quote and escape removal); None on error."""
    out, i, n = [], 0, len(word)
    while i < n:
        ch = word[i]
        if ch == "'":
            end = word.find("'", i + 1)
            if end < 0:
                return None
            out.append(word[i + 1 : end].replace("$", LITERAL_DOLLAR))
            i = end + 1
        elif ch == '"':
            i = _double_quoted(word, i + 1, out)
            if i < 0:
                return None
        elif ch == "\\":
            if i + 1 < n:
                out.append(LITERAL_DOLLAR if word[i + 1] == "$" else word[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _double_quoted(word: str, i: int, out: list[str]) -> int:
    while i < len(word):
        ch = word[i]
        if ch == '"':
            return i + 1
        if ch == "\\" and i + 1 < len(word) and word[i + 1] in '"$\\':
            out.append(LITERAL_DOLLAR if word[i + 1] == "$" else word[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return -1


def meant_run(command: str) -> str | None:
    """The one shell line a RUN means: backslash-newlines removed; None if it needs several.

    As in ``sh``: a newline after an odd number of backslashes is a continuation,
    any other newline ends the command. Empty and comment lines that a continuation
    runs onto are dropped, as BuildKit drops them (chutes-build keeps the SDK's text
    and warns about them); a continuation that only such lines follow runs past the text.
    """
    lines = command.split("\n")
    kept = lines[:1]
    for line in lines[1:]:
        if (len(kept[-1]) - len(kept[-1].rstrip("\\"))) % 2 == 0:
            return None
        if line.strip() and not line.lstrip().startswith("#"):
            kept.append(line)
    last = lines[-1]
    if len(lines) > 1 and (not last.strip() or last.lstrip().startswith("#")):
        return None
    return ("".join(line[:-1] for line in kept[:-1]) + kept[-1]).strip(" \t")


def ends_in_backslash(text: str) -> bool:
    """Rejected on purpose: docker 20.10's parser continues any line ending so
    (``\\[ \\t]*$``); BuildKit >= 0.13 only an odd-looking one, so no reading is safe."""
    return text.rstrip(" \t").endswith("\\")


def shell_meaning_ok(value: str) -> bool:
    """Whether BuildKit's ``${...}`` handling can be modelled here (else no claim is made)."""
    return all(
        re.match(r"\$\{[A-Za-z_][A-Za-z0-9_]*([:?#%/+-][^{}\"'\\]*)?\}", value[at:])
        for at in (m.start() for m in re.finditer(r"\$\{", value))
    )


# -- the SDK's lines -----------------------------------------------------------------------


def sdk_line(method: str, *args: Any) -> str:
    """The line the SDK 0.6.9 writes for ``Image.<method>(*args)`` (no validation)."""
    if method == "with_env":
        return f"ENV {args[0]}={args[1]}"
    if method == "run_command":
        return f"RUN {args[0]}"
    if method == "with_entrypoint":
        return "ENTRYPOINT " + json.dumps(list(args[0]))
    keyword = {"set_user": "USER", "set_workdir": "WORKDIR", "with_maintainer": "MAINTAINER"}
    return f"{keyword[method]} {args[0]}"


def dockerfile_with(line: str) -> str:
    """``line`` between the default FROM and a sentinel RUN, as in ``str(image)``."""
    return f"FROM {BASE}\n{line}\nRUN echo sentinel"


def image() -> Image:
    return Image(username="fuzz", name="app", tag="1")


def build(method: str, *args: Any) -> Image | DefinitionError:
    """Call ``method``; return the image (plus the sentinel) or the DefinitionError."""
    try:
        built = getattr(image(), method)(*args)
    except DefinitionError as exc:
        return exc
    return built.run_command("echo sentinel")
