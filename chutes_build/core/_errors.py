"""Errors raised by chutes-build.

Every error a user can cause derives from one root and carries the evidence
(file, line, field) and the fix::

    ChutesBuildError
    ├── DefinitionError          a value passed to Image / Chute / cord / NodeSelector is invalid
    │   └── InvalidPath          a cord path is malformed
    │   └── DuplicatePath        two cords of one chute share a path
    ├── WorkspaceError           workspace configuration or file discovery failed
    ├── LoadError                a chute file could not be imported (syntax error, exception)
    ├── GraphError               the definitions cannot be compiled into a build graph
    ├── CacheError               the cache folder cannot be used (read-only, full disk)
    ├── BuildError               a builder failed (docker missing, build step failed)
    └── DeployError              a deploy target failed

The ``str()`` of each error is the full, user-facing message:
``path/to/file.py:12: <what is wrong>`` followed by ``  fix: <what to do>``.
"""

from __future__ import annotations

import importlib
import os
import sys

__all__ = [
    "BuildError",
    "CacheError",
    "ChutesBuildError",
    "DefinitionError",
    "DeployError",
    "DuplicatePath",
    "GraphError",
    "InvalidPath",
    "LoadError",
    "WorkspaceError",
    "user_location",
]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE_DIRS = (
    _PACKAGE + os.sep,
    os.path.join(os.path.dirname(_PACKAGE), "chutes_recipes") + os.sep,
)
#: Frames in these folders are never "the user's call" (``importlib.import_module``).
_IMPORT_DIRS = (os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep,)


def user_location(skip_recipes: bool = True) -> tuple[str | None, int | None]:
    """Return ``(file, line)`` of the innermost stack frame outside chutes-build.

    This is the line of the user's call that led to a definition error.
    Frames inside importlib's bootstrap are skipped too.
    """
    frame = sys._getframe(1)
    dirs = (_PACKAGE_DIRS if skip_recipes else _PACKAGE_DIRS[:1]) + _IMPORT_DIRS
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.abspath(filename).startswith(dirs):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None, None


class ChutesBuildError(Exception):
    """Root of every error chutes-build raises for bad input or a failed step."""

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.fix = fix
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.render())

    def locate(self, file: str | None, line: int | None) -> ChutesBuildError:
        """Attach a location when the error does not carry one yet; return self."""
        if self.file is None and file is not None:
            self.file, self.line = file, line
            self.args = (self.render(),)
        return self

    def render(self) -> str:
        where = ""
        if self.file:
            where = _display_path(self.file)
            if self.line:
                where += f":{self.line}"
            where += ": "
        field = f" (at {self.field})" if self.field else ""
        text = f"{where}{self.message}{field}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text

    def __str__(self) -> str:
        return self.render()


def _display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


class DefinitionError(ChutesBuildError, ValueError):
    """A value given to a definition (Image, Chute, cord, NodeSelector) is invalid.

    It subclasses ``ValueError`` so code written against the SDK, which raised
    ``ValueError``/``AssertionError``, can still catch it.
    """

    def __init__(self, message: str, **kwargs) -> None:
        if "file" not in kwargs:
            kwargs["file"], kwargs["line"] = user_location()
        super().__init__(message, **kwargs)
        from ._warnings import note_error

        note_error(self)


class InvalidPath(DefinitionError):
    """A cord path (or passthrough / public API path) is malformed."""


class DuplicatePath(DefinitionError):
    """Two cords of one chute were given the same path."""


class WorkspaceError(ChutesBuildError):
    """The workspace configuration or the files it names are unusable."""


class LoadError(ChutesBuildError):
    """A chute file could not be imported: syntax error, exception, or no chute in it."""


class GraphError(ChutesBuildError):
    """The definitions cannot be compiled into a build graph."""


class CacheError(ChutesBuildError):
    """The cache folder cannot be used (read-only, full disk, wrong owner)."""


class BuildError(ChutesBuildError):
    """A builder failed: no engine, a failed step, a cancelled build."""


class DeployError(ChutesBuildError):
    """A deploy target failed."""
