"""Validation rules shared by the definition classes.

Each check raises :class:`DefinitionError` naming the value and the fix. The
rules follow the ``chutes`` SDK 0.6.9 and are stricter where the SDK is wrong
(its checksum pattern ``[a-f0-0]`` rejects most hex digits).
"""

from __future__ import annotations

import re

from ._errors import DefinitionError

IMAGE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-_\.]*$", re.I)
IMAGE_REF_RE = re.compile(
    r"^((([a-z0-9.-]+)(:[0-9]+)?/)?[a-z0-9._-]+(/[a-z0-9._-]+)*)(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$",
    re.I,
)
ENV_KEY_RE = re.compile(r"^([a-z_][a-z0-9_]*)$", re.I)
APT_PACKAGE_RE = re.compile(r"^[a-zA-Z0-9_:\*-][a-zA-Z0-9_:\*\.+=-]*$")
CHECKSUM_RE = re.compile(r"^sha(256:[a-f0-9]{64}|384:[a-f0-9]{96}|512:[a-f0-9]{128})$")
CHOWN_RE = re.compile(r"^([a-z_][a-z0-9_-]{0,31}|\d+)(:([a-z_][a-z0-9_-]{0,31}|\d+))?$", re.I)
CHMOD_RE = re.compile(r"^[0-7]{3,4}$")
CORD_PATH_RE = re.compile(r"^(/[a-z0-9_]+[a-z0-9-_]*)+$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def require_str(value: object, what: str, fix: str) -> str:
    if not isinstance(value, str):
        raise DefinitionError(f"{what} must be a string, got {type(value).__name__} {value!r}", fix=fix)
    return value


def single_line(value: str, what: str) -> str:
    """Reject values that would end a Dockerfile instruction early."""
    if "\n" in value or "\r" in value or _CONTROL_RE.search(value):
        raise DefinitionError(
            f"{what} {value!r} contains a line break or control character, "
            "which would start a new Dockerfile instruction",
            fix=f"pass {what} on one line",
        )
    return value


def run_command(command: str) -> str:
    """A RUN command may span lines only through backslash continuations."""
    require_str(command, "run_command()", "pass the shell command as one string")
    if not command.strip():
        raise DefinitionError("run_command() was given an empty command", fix="pass a shell command")
    if _CONTROL_RE.search(command) or "\r" in command:
        raise DefinitionError(
            f"run_command() {command!r} contains a control character",
            fix="remove control characters from the command",
        )
    lines = command.split("\n")
    for previous, following in zip(lines, lines[1:], strict=False):
        if not previous.endswith("\\") or following.lstrip().startswith("#"):
            raise DefinitionError(
                f"run_command() {command!r} contains a line break that is not a "
                "backslash continuation, so Docker would read the next line as a new instruction",
                fix="join the commands with '&&', or end each line but the last with a backslash",
            )
    return command


def image_name(value: object, what: str) -> str:
    fix = f"use letters, digits, '-', '_' and '.', starting with a letter or digit (e.g. 'my-{what}')"
    require_str(value, f"image {what}", fix)
    if not IMAGE_NAME_RE.match(value):  # type: ignore[arg-type]
        raise DefinitionError(f"invalid image {what} {value!r}", fix=fix)
    return value  # type: ignore[return-value]


def image_ref(value: object) -> str:
    fix = "use a reference like 'parachutes/python:3.12' or 'registry:5000/org/name:tag'"
    require_str(value, "base image", fix)
    if not IMAGE_REF_RE.match(value):  # type: ignore[arg-type]
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
        raise DefinitionError(f"apt_{verb}() was given no packages", fix="name at least one package")
    for package in packages:
        if not APT_PACKAGE_RE.match(package):
            raise DefinitionError(
                f"invalid apt package {package!r}: only letters, digits and "
                "'_ : * . + = -' are allowed (no spaces or shell characters)",
                fix="pass each package as its own list item, e.g. apt_install(['git', 'curl'])",
            )
    return packages


def env_key(key: object) -> str:
    fix = "use letters, digits and '_', not starting with a digit (e.g. 'HF_HOME')"
    require_str(key, "environment variable name", fix)
    if not ENV_KEY_RE.match(key):  # type: ignore[arg-type]
        raise DefinitionError(f"invalid environment variable name {key!r}", fix=fix)
    return key  # type: ignore[return-value]


def add_option(value: str | None, pattern: re.Pattern, what: str, example: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise DefinitionError(f"invalid add() {what} option {value!r}", fix=f"use e.g. {what}={example!r}")
    return value


def cord_path(path: object, what: str = "path") -> str:
    if not isinstance(path, str):
        raise InvalidPathError(path, what)
    normalised = "/" + path.lstrip("/").rstrip("/")
    if "//" in normalised or not CORD_PATH_RE.match(normalised):
        raise InvalidPathError(path, what)
    return normalised


def InvalidPathError(path: object, what: str) -> DefinitionError:  # noqa: N802 - factory
    from ._errors import InvalidPath

    return InvalidPath(
        f"invalid cord {what} {path!r}",
        fix="use lowercase segments of letters, digits, '_' and '-', e.g. '/generate' or '/v1/chat'",
    )
