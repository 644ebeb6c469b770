"""Warnings: what the platform accepts but is probably a mistake, with file:line and fix.

A chute file written for the SDK may pass a value the SDK and the platform
accept although it looks wrong: a GPU name the catalogue lacks (the platform
decides), a ``NodeSelector`` keyword the SDK's pydantic model ignores, shell
text that continues onto an empty line. Such a value is kept as the SDK keeps
it and :func:`warn` records a :class:`DefinitionWarning` naming the user's
line. While the workspace loader imports a file, :func:`collecting` gathers
that file's warnings (each one once) and the definition errors raised during
the import, which a file may have caught itself. Outside a load, a warning
goes through Python's :mod:`warnings` as a :class:`ChutesBuildWarning`.

``--strict`` (or ``strict = true`` in the workspace) makes every warning an
error: :meth:`DefinitionWarning.as_error`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import msgspec

from ._errors import ChutesBuildError, DefinitionError, _display_path, user_location

__all__ = [
    "ChutesBuildWarning",
    "Collector",
    "DefinitionWarning",
    "collecting",
    "note_error",
    "warn",
]

_STRICT_FIX = "or drop --strict (and `strict = true` in the workspace) to accept it"


class ChutesBuildWarning(UserWarning):
    """The Python warning category of a :class:`DefinitionWarning` raised outside a load."""


class DefinitionWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A value kept as the SDK keeps it, but probably a mistake."""

    message: str
    fix: str
    file: str | None = None
    line: int | None = None

    def render(self) -> str:
        """``file:line: message`` and the fix, as errors are rendered."""
        where = ""
        if self.file:
            where = _display_path(self.file) + (f":{self.line}" if self.line else "") + ": "
        return f"{where}{self.message}\n  fix: {self.fix}"

    def __str__(self) -> str:
        return self.render()

    def as_error(self) -> DefinitionError:
        """The error ``--strict`` reports instead of this warning."""
        return DefinitionError(
            f"{self.message} (an error under --strict)",
            fix=f"{self.fix}, {_STRICT_FIX}",
            file=self.file,
            line=self.line,
        )

    def relative_to(self, root: str) -> DefinitionWarning:
        """The same warning with ``file`` relative to ``root`` (for snapshots)."""
        if not self.file or not os.path.isabs(self.file):
            return self
        rel = os.path.relpath(self.file, root).replace(os.sep, "/")
        return msgspec.structs.replace(self, file=rel)

    def under(self, root: str) -> DefinitionWarning:
        """The same warning with a ``root``-relative ``file`` made absolute again."""
        if not self.file or os.path.isabs(self.file):
            return self
        return msgspec.structs.replace(self, file=os.path.join(root, self.file))

    def as_dict(self) -> dict:
        """The warning as JSON-ready data (``--json``)."""
        return msgspec.structs.asdict(self)


class Collector:
    """What one file's import produced besides definitions: warnings and raised errors."""

    __slots__ = ("raised", "warnings")

    def __init__(self) -> None:
        self.warnings: list[DefinitionWarning] = []
        self.raised: list[ChutesBuildError] = []


_current: ContextVar[Collector | None] = ContextVar("chutes_build_warnings", default=None)


@contextmanager
def collecting() -> Iterator[Collector]:
    """Gather the warnings and definition errors of the code run inside the block."""
    collector = Collector()
    token = _current.set(collector)
    try:
        yield collector
    finally:
        _current.reset(token)


def warn(message: str, fix: str) -> DefinitionWarning:
    """Record a warning located at the user's line; return it."""
    file, line = user_location()
    warning = DefinitionWarning(message=message, fix=fix, file=file, line=line)
    collector = _current.get()
    if collector is None:
        warnings.warn_explicit(warning.message, ChutesBuildWarning, file or "<unknown>", line or 0)
    elif warning not in collector.warnings:
        collector.warnings.append(warning)
    return warning


def note_error(error: ChutesBuildError) -> None:
    """Remember a definition error raised while a file loads (the file may catch it)."""
    collector = _current.get()
    if collector is not None:
        collector.raised.append(error)
