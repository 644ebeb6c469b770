"""The rules for ``run_command`` text: what BuildKit makes of it, and what is refused.

A RUN command may span lines only through backslash continuations. BuildKit
joins continued lines, drops empty and comment lines inside a continuation,
opens a heredoc at a ``<<WORD`` word, reads leading ``--`` words as RUN flags
and a leading JSON list as the exec form. Text whose Dockerfile reading adds or
changes an instruction is refused; empty and comment lines inside a
continuation are kept as the SDK writes them, with a warning.
"""

from __future__ import annotations

import json
import re

from ..core import DefinitionError, warn
from ._validate import HEREDOC_WORD_RE, require_str

__all__ = ["run_command", "shell_words"]

#: A line continuation for any BuildKit version: the escape character, then spaces
#: or tabs, at the end (BuildKit >= 0.13 also wants a non-backslash before it;
#: docker 20.10's parser does not, so any trailing backslash counts).
_CONTINUATION_RE = re.compile(r"\\[ \t]*\Z")

_RUN_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_RUN_FIX = "join the commands with '&&', or end each line but the last with a backslash"


def run_command(command: str) -> str:
    """A RUN command may span lines only through backslash continuations.

    Rejected: control characters, a trailing continuation (it would swallow
    the next instruction, also when only empty or comment lines follow it),
    leading RUN flags and heredocs (both change the instruction itself).
    Empty and comment lines that a continuation runs onto are kept as the SDK
    writes them, with a warning: Docker drops them and joins the command, where
    a shell would have ended it.
    """
    require_str(command, "run_command()", "pass the shell command as one string")
    found = _RUN_CONTROL_RE.search(command)
    if found:
        raise DefinitionError(
            f"run_command() {command!r} contains the control character {found.group()!r}, "
            "which Docker would not pass to the shell as written",
            fix="remove control characters from the command",
        )
    joined, dropped = _join_continuations(command)
    if not joined.strip():
        raise DefinitionError(
            "run_command() was given an empty command", fix="pass a shell command"
        )
    if joined.strip() != joined.strip(" \t"):
        raise DefinitionError(
            f"run_command() {command!r} starts or ends with a non-ASCII space, which Docker drops",
            fix="strip the command",
        )
    if joined.lstrip().startswith("--"):
        raise DefinitionError(
            f"run_command() {command!r} starts with '--', which Docker reads as a RUN flag "
            "(--mount, --network, --security), not as part of the command",
            fix="pass only the shell command; RUN flags are not supported",
        )
    _reject_heredoc(command, joined)
    if _is_json_array(joined):
        raise DefinitionError(
            f"run_command() {command!r} is a JSON array, which Docker runs as an exec-form "
            "command without a shell",
            fix="pass the shell command itself, e.g. 'python -m app'",
        )
    if dropped:
        warn(
            f"run_command() {_short(command)} continues onto an empty or comment line "
            f"({dropped} of them): Docker drops such lines and joins the rest into one command, "
            "where a shell would end the command there",
            "remove empty and comment lines between continued lines",
        )
    return command


def _short(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _is_json_array(text: str) -> bool:
    """BuildKit runs ``RUN [...]`` in exec form when it starts with a JSON list of strings.

    Its decoder reads the first JSON value and ignores whatever follows it.
    """
    if not text.lstrip().startswith("["):
        return False
    try:
        parsed, _ = json.JSONDecoder().raw_decode(text.lstrip())
    except ValueError:
        return False
    return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)


def _join_continuations(command: str) -> tuple[str, int]:
    """The one line BuildKit makes of ``command``, and how many lines it drops.

    Raise where that line is not what the text says: a line break that is no
    continuation, or a continuation at the end (it swallows the next instruction).
    Inside a continuation BuildKit drops empty and comment lines.
    """
    lines = command.split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if not kept[-1].endswith("\\") or kept[-1].endswith("\\\\"):
            raise DefinitionError(
                f"run_command() {command!r} contains {_why_not_continued(kept[-1])}", fix=_RUN_FIX
            )
        if not _dropped(line):
            kept.append(line)
    if _CONTINUATION_RE.search(kept[-1]):
        # Only dropped lines follow the last kept one when the text ends in one of them.
        at_end = _dropped(lines[-1]) if len(lines) > 1 else False
        raise DefinitionError(
            f"run_command() {command!r} "
            + ("continues onto an empty or comment line at its end" if at_end else
               "ends with a backslash")
            + ", which would join the next Dockerfile instruction onto this command",
            fix="remove the trailing backslash",
        )  # fmt: skip
    joined = "".join(line[:-1] for line in kept[:-1]) + kept[-1]
    return joined, len(lines) - len(kept)


def _dropped(line: str) -> bool:
    """Whether BuildKit drops ``line`` inside a continuation (empty, blank or a comment)."""
    return not line.strip() or line.lstrip().startswith("#")


def _why_not_continued(line: str) -> str:
    if line.endswith("\\\\"):
        # BuildKit >= 0.13 ends the line there (an escaped backslash); older
        # parsers continue it, so no reading of it is safe.
        return "a line ending in several backslashes before a line break"
    if _CONTINUATION_RE.search(line):
        return "spaces after the backslash that continues a line"
    return (
        "a line break that is not a backslash continuation, so Docker would read "
        "the next line as a new instruction"
    )


def _reject_heredoc(command: str, joined: str) -> None:
    if "<<" not in joined:
        return
    for word in shell_words(joined):
        if HEREDOC_WORD_RE.fullmatch(word):
            raise DefinitionError(
                f"run_command() {command!r} opens the heredoc {word!r}; Docker would read "
                "the following Dockerfile lines as its body",
                fix="write the file with printf/echo, or add() it from the workspace",
            )


def shell_words(line: str) -> list[str]:
    """Split ``line`` into words as BuildKit does before looking for heredocs.

    Quotes and escapes stay in the words (BuildKit's ``RawQuotes``/``RawEscapes``).
    With an unclosed quote BuildKit's lexer fails and it finds no heredoc: so do we.
    """
    words, word, quote, i = [], "", "", 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quote != "'" and i + 1 < len(line):
            word, i = word + line[i : i + 2], i + 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            words, word = (words + [word] if word else words), ""
            i += 1
            continue
        word, i = word + ch, i + 1
    if quote:
        return []
    return words + [word] if word else words
