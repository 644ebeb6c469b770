"""Validation rules shared by the definition classes.

Each check raises :class:`DefinitionError` naming the value and the fix. The
rules follow the ``chutes`` SDK 0.6.9 and are stricter where the SDK is wrong
(its checksum pattern ``[a-f0-0]`` rejects most hex digits, and it writes any
value straight into the Dockerfile, so ``with_env("A", "x\\nRUN ...")`` adds
an instruction).

The Dockerfile rules below follow BuildKit's parser: a line ends at ``\\n``
(NUL ends it early too), a line that ends in ``\\`` (plus spaces or tabs)
swallows the next one, empty and comment lines inside a continuation are
dropped, ``<<WORD`` opens a heredoc in RUN and ADD, words split at any
Unicode space, leading ``--`` words are flags, and USER, WORKDIR, ENV and ADD
remove quotes and backslashes and expand ``$NAME``/``${NAME...}``. ``$`` is
left alone on purpose (``with_env("PATH", "/opt/python/bin:$PATH")``).
"""

from __future__ import annotations

import re

from ..core import DefinitionError

IMAGE_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-_\.]*", re.I | re.ASCII)
IMAGE_REF_RE = re.compile(
    r"(?!-)((([a-z0-9.-]+)(:[0-9]+)?/)?[a-z0-9._-]+(/[a-z0-9._-]+)*)(:[\w.-]+)?(@sha256:[a-f0-9]{64})?",
    re.I | re.ASCII,
)
ENV_KEY_RE = re.compile(r"[a-z_][a-z0-9_]*", re.I | re.ASCII)
APT_PACKAGE_RE = re.compile(r"[a-zA-Z0-9_:\*-][a-zA-Z0-9_:\*\.+=-]*")
CHECKSUM_RE = re.compile(r"sha(256:[a-f0-9]{64}|384:[a-f0-9]{96}|512:[a-f0-9]{128})")
CHOWN_RE = re.compile(
    r"([a-z_][a-z0-9_-]{0,31}|[0-9]+)(:([a-z_][a-z0-9_-]{0,31}|[0-9]+))?", re.I | re.ASCII
)
CHMOD_RE = re.compile(r"[0-7]{3,4}")
CORD_PATH_RE = re.compile(r"(/[a-z0-9_]+[a-z0-9-_]*)+", re.ASCII)
# ``(?!-)``: ``FROM --x/y`` would be a flag. Every pattern above is used with
# ``fullmatch``: ``re.match(r"^...$")`` lets a trailing newline through ("git\n"),
# which would end the instruction early. ``re.ASCII``: under ``re.I`` the Kelvin
# sign matches ``k``.

#: Line breaks and control characters (tab allowed) and lone surrogates, which
#: cannot be written as UTF-8.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
#: A shell word BuildKit reads as a heredoc opener (``<<EOF``, ``2<<-'END'``).
HEREDOC_WORD_RE = re.compile(r"[0-9]*<<-?[^<]+")
#: ``${NAME}`` or ``${NAME<op>word}`` where the word holds no quote, brace or backslash.
_BRACE_RE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?#%/+-][^{}\"'\\]*)?\}")
#: Characters that USER, WORKDIR and ADD would treat as quoting, not as text.
_QUOTING = "\"'\\"


def require_str(value: object, what: str, fix: str) -> str:
    if not isinstance(value, str):
        got = f"{type(value).__name__} {value!r}"
        raise DefinitionError(f"{what} must be a string, got {got}", fix=fix)
    return value


def encodable(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8 (no lone surrogates)."""
    return not re.search(r"[\ud800-\udfff]", value)


def no_control(value: str, what: str) -> str:
    """Reject line breaks, control characters (tab allowed) and lone surrogates."""
    found = _CONTROL_RE.search(value)
    if found:
        raise DefinitionError(
            f"{what} {value!r} contains a line break or control character "
            f"({found.group()!r}), which would start a new Dockerfile instruction",
            fix=f"pass {what} on one line, without control characters",
        )
    return value


def single_line(value: str, what: str) -> str:
    """A value written as the whole rest of a Dockerfile line, kept verbatim.

    Docker trims whitespace around it and reads a trailing backslash as a
    continuation that swallows the next instruction.
    """
    no_control(value, what)
    if not value.strip():
        raise DefinitionError(f"{what} is empty", fix=f"pass a non-empty {what}")
    if value != value.strip():
        raise DefinitionError(
            f"{what} {value!r} starts or ends with whitespace, which Docker drops",
            fix=f"strip the {what}",
        )
    if value.startswith("--"):
        raise DefinitionError(
            f"{what} {value!r} starts with '--', which Docker reads as an instruction flag",
            fix=f"remove the leading dashes from the {what}",
        )
    if value.endswith("\\"):
        raise DefinitionError(
            f"{what} {value!r} ends with a backslash, which would join the next "
            "Dockerfile instruction onto this one",
            fix=f"remove the trailing backslash from the {what}",
        )
    return value


def dollar_braces(value: str, what: str) -> str:
    """``${`` must open ``${NAME}`` or ``${NAME:-word}`` (Docker expands these)."""
    at = value.find("${")
    while at != -1:
        match = _BRACE_RE.match(value, at)
        if match is None:
            raise DefinitionError(
                f"{what} {value!r} has a '${{' at offset {at} that is not "
                "'${NAME}' or '${NAME:-default}' (Docker would fail or expand it oddly)",
                fix="write '${NAME}', '${NAME:-default}' or '$NAME', or drop the '${'",
            )
        at = value.find("${", match.end())
    return value


def expanded_word(value: str, what: str, spaces: bool = True) -> str:
    """A value Docker reads as one word with quote removal and ``$`` expansion.

    ``$NAME`` and ``${NAME}`` keep expanding as in the SDK; quotes and
    backslashes (which Docker would remove) are rejected.
    """
    single_line(value, what)
    bad = next((c for c in value if c in _QUOTING or (not spaces and c.isspace())), None)
    if bad is not None:
        kind = "whitespace" if bad.isspace() else f"the character {bad!r}"
        raise DefinitionError(
            f"{what} {value!r} contains {kind}, which Docker would read as "
            "quoting or a word break rather than text",
            fix=f"remove quotes, backslashes{'' if spaces else ' and spaces'} from the {what}",
        )
    return dollar_braces(value, what)


def env_value(value: str, what: str) -> str:
    """ENV values are quoted when needed (see :class:`Env`); ``$`` still expands."""
    no_control(value, what)
    return dollar_braces(value, what)


def entrypoint_arg(value: str) -> str:
    """JSON escapes everything else; NUL and lone surrogates cannot reach a program."""
    found = re.search(r"[\x00\ud800-\udfff]", value)
    if found:
        raise DefinitionError(
            f"with_entrypoint() argument {value!r} contains {found.group()!r}, "
            "which no program argument can hold",
            fix="remove NUL characters and lone surrogates from the entrypoint",
        )
    return value


def add_path(value: str, what: str) -> str:
    """An ADD source or destination: one plain word, never a flag, JSON or heredoc."""
    expanded_word(value, f"add() {what}", spaces=False)
    if value.startswith(("-", "[")) or HEREDOC_WORD_RE.fullmatch(value):
        raise DefinitionError(
            f"add() {what} {value!r} would be read as a flag, a JSON array or a heredoc by Docker",
            fix=f"use a path that starts with a letter, digit, '.' or '/' for the {what}",
        )
    return value


def image_name(value: object, what: str) -> str:
    fix = (
        f"use letters, digits, '-', '_' and '.', starting with a letter or digit (e.g. 'my-{what}')"
    )
    require_str(value, f"image {what}", fix)
    if not IMAGE_NAME_RE.fullmatch(value):  # type: ignore[arg-type]
        raise DefinitionError(f"invalid image {what} {value!r}", fix=fix)
    return value  # type: ignore[return-value]


def image_ref(value: object) -> str:
    fix = "use a reference like 'parachutes/python:3.12' or 'registry:5000/org/name:tag'"
    require_str(value, "base image", fix)
    if not IMAGE_REF_RE.fullmatch(value):  # type: ignore[arg-type]
        raise DefinitionError(f"invalid image reference {value!r}", fix=fix)
    return value  # type: ignore[return-value]


def string_list(value: object, what: str) -> tuple[str, ...]:
    """A string or a list of strings, normalised to a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise DefinitionError(
        f"{what} must be a string or a list of strings, got {value!r}",
        fix=f"pass {what} as e.g. ['git', 'curl']",
    )


def apt_packages(value: object, verb: str) -> tuple[str, ...]:
    packages = string_list(value, f"apt_{verb}() packages")
    if not packages:
        raise DefinitionError(
            f"apt_{verb}() was given no packages", fix="name at least one package"
        )
    for package in packages:
        if not APT_PACKAGE_RE.fullmatch(package):
            raise DefinitionError(
                f"invalid apt package {package!r}: only letters, digits and "
                "'_ : * . + = -' are allowed (no spaces or shell characters)",
                fix="pass each package as its own list item, e.g. apt_install(['git', 'curl'])",
            )
    return packages


def env_key(key: object) -> str:
    fix = "use letters, digits and '_', not starting with a digit (e.g. 'HF_HOME')"
    require_str(key, "environment variable name", fix)
    if not ENV_KEY_RE.fullmatch(key):  # type: ignore[arg-type]
        raise DefinitionError(f"invalid environment variable name {key!r}", fix=fix)
    return key  # type: ignore[return-value]


def add_option(value: str | None, pattern: re.Pattern, what: str, example: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise DefinitionError(
            f"invalid add() {what} option {value!r}", fix=f"use e.g. {what}={example!r}"
        )
    return value


def cord_path(path: object, what: str = "path") -> str:
    if not isinstance(path, str):
        raise InvalidPathError(path, what)
    normalised = "/" + path.lstrip("/").rstrip("/")
    if "//" in normalised or not CORD_PATH_RE.fullmatch(normalised):
        raise InvalidPathError(path, what)
    return normalised


def InvalidPathError(path: object, what: str) -> DefinitionError:  # noqa: N802 - factory
    from ..core import InvalidPath

    return InvalidPath(
        f"invalid cord {what} {path!r}",
        fix=(
            "use lowercase segments of letters, digits, '_' and '-', e.g. '/generate' or '/v1/chat'"
        ),
    )
