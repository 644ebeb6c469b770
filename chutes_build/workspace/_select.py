"""Picking chutes on the command line: files, folders, chute names and globs over names.

Every command that takes PATHS reads each argument the same way:

- an argument that exists on disk is a file or folder, even when a chute has the same
  name (``./name`` and ``name`` are then the same thing);
- an argument that ends with ``.py`` and does not exist is a missing file;
- anything else is a chute name, or a glob over chute names when it holds ``*``, ``?``
  or ``[`` (``'*-echo'``), matched case-sensitively as the names are written.

Names are known only once files are evaluated, so the graph package turns patterns
into files (from the evaluation cache when it already knows which file defines a
name); this module only splits the arguments, matches names and words the errors.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core import WorkspaceError

__all__ = ["Selection", "matches", "missing_path_error", "no_match_error", "split_arguments"]

_GLOB = frozenset("*?[")


@dataclass
class Selection:
    """The command line's PATHS, split: ``paths`` on disk, ``patterns`` over chute names."""

    paths: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """True when every pattern is a plain name (no glob)."""
        return not any(_GLOB & set(p) for p in self.patterns)


def _looks_like_path(arg: str) -> bool:
    return arg.endswith(".py")  # chute names may hold a "/" (Qwen/Qwen2.5-0.5B-Instruct)


def split_arguments(args: Iterable[str]) -> Selection:
    """Which arguments are files or folders and which are chute names or globs."""
    selection = Selection()
    for arg in args:
        if os.path.exists(arg) or _looks_like_path(arg):
            selection.paths.append(arg)
        else:
            selection.patterns.append(arg)
    return selection


def matches(pattern: str, name: str) -> bool:
    """Whether chute ``name`` is selected by ``pattern`` (a name or a glob)."""
    if _GLOB & set(pattern):
        return fnmatch.fnmatchcase(name, pattern)
    return name == pattern


def no_match_error(
    pattern: str, names: Iterable[str], failed: Iterable[str] = ()
) -> WorkspaceError:
    """The error for an argument that is neither a path nor the name of a chute found."""
    known = sorted(set(names))
    close = difflib.get_close_matches(pattern, known, n=3, cutoff=0.6)
    if close:
        fix = f"did you mean {' or '.join(repr(n) for n in close)}?"
    elif known:
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        fix = f"name a chute ({shown}), a glob over names ('*-echo'), a file or a folder"
    else:
        fix = "no chutes were found here: name a chute file or folder"
    broken = sorted(failed)
    if broken:
        fix += f"; {len(broken)} file(s) failed to load and may define it: {', '.join(broken[:3])}"
    return WorkspaceError(
        f"no chute, file or folder matches {pattern!r}", fix=fix, file="<command line>"
    )


def missing_path_error(arg: str, files: Iterable[str]) -> WorkspaceError:
    """The error for an argument that looks like a path but names nothing on disk;
    ``files`` are the workspace's chute files (relative), for the closest ones."""
    close = difflib.get_close_matches(arg.removeprefix("./"), sorted(files), n=3, cutoff=0.6)
    fix = f"did you mean {' or '.join(repr(f) for f in close)}?" if close else "check the path"
    return WorkspaceError(f"no such file or folder: {arg}", fix=fix, file="<command line>")
