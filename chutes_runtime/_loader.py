"""Finding the chute to serve from ``FILE.py:ATTR`` (or the SDK's ``module:attr``)."""

from __future__ import annotations

import os
from typing import Any

from chutes_build.core import LoadError
from chutes_build.definitions import Chute, ChutePack
from chutes_build.workspace import find_workspace, load_file

__all__ = ["code_root", "load_target", "split_target"]


def split_target(target: str) -> tuple[str, str | None]:
    """``("path/file.py", "attr")``; a bare module name means ``module.py`` in the cwd."""
    path, _, attr = target.rpartition(":") if ":" in target else (target, "", "")
    if not path.endswith(".py"):
        path = path.replace(".", os.sep) + ".py"
    return os.path.abspath(path), attr or None


def code_root(target: str) -> str:
    """The real path of the folder the chute's code is imported from (its workspace root,
    as the import uses it): the paths of a reload are relative to it."""
    path, _ = split_target(target)
    return os.path.realpath(find_workspace(path).root)


def load_target(target: str) -> tuple[Any, Chute]:
    """Import the chute file and return ``(module, chute)``; raise ``LoadError`` on failure."""
    path, attr = split_target(target)
    if not os.path.isfile(path):
        raise LoadError(
            f"no such chute file: {path}",
            fix="pass FILE.py:CHUTE (or module:chute from its folder)",
        )
    loaded = load_file(path)
    if loaded.error is not None:
        raise loaded.error
    chutes = dict(loaded.chutes)
    if attr is None and len(chutes) == 1:
        return loaded.module, next(iter(chutes.values()))
    if attr is not None:
        value = getattr(loaded.module, attr, None)
        value = value.chute if isinstance(value, ChutePack) else value
        if isinstance(value, Chute):
            return loaded.module, value
    names = ", ".join(sorted(chutes)) or "none"
    raise LoadError(
        f"no chute named {attr!r} in {path} (chutes found: {names})",
        file=path,
        fix="pass FILE.py:NAME where NAME is the module-level Chute variable",
    )
