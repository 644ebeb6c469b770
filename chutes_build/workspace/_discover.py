"""Finding chute files: the workspace's globs, or only the files and folders named.

The walk never leaves the workspace and never lists a file twice:

- a symlink whose target resolves outside the workspace is skipped with a
  warning naming it (its code would run on import);
- every real folder is walked once, real folders before links to them, so a
  link loop (``link -> ..``) is cut at its first turn;
- every real file is listed once, under its real path inside the workspace;
- hidden entries, tool folders (``.venv``, ``node_modules``, ``build``...) and
  anything but regular ``.py`` files are skipped.

Outside a workspace (no ``pyproject.toml`` with a ``[tool.chutes-build]`` table
above the folder) nothing is scanned unless named: a stray home or ``/tmp``
folder can hold thousands of Python files.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..core import WorkspaceError
from ..definitions import is_within

if TYPE_CHECKING:
    from ._workspace import Workspace

__all__ = ["DEFAULT_CHUTES", "discover"]

log = logging.getLogger("chutes_build.workspace")

#: The chute globs of a workspace that names none: every file that looks like a chute file.
DEFAULT_CHUTES = ("**/*.py",)

_SKIP_DIRS = frozenset(
    {"venv", "__pycache__", "node_modules", "build", "dist"}
)  # and every hidden folder (.git, .venv, .tox...)


def _component(part: str) -> str:
    """Regex of one glob path component: ``*`` and ``?`` never cross a ``/``."""
    out, i = [], 0
    while i < len(part):
        char = part[i]
        end = part.find("]", i + 2) if char == "[" else -1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif end != -1:
            body = part[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _pattern(glob: str) -> tuple[str, re.Pattern[str]]:
    """``(base, regex)``: the folder a glob's literal prefix names, and a matcher of ``/REL``."""
    parts = [p for p in glob.replace(os.sep, "/").split("/") if p not in ("", ".")]
    base: list[str] = []
    while len(parts) > 1 and not any(c in parts[0] for c in "*?["):
        base.append(parts.pop(0))
    regex = "".join("/" + re.escape(p) for p in base)
    for part in parts:
        regex += "(?:/[^/]+)*" if part == "**" else "/" + _component(part)
    return "/".join(base), re.compile(regex + r"\Z")


class _Walk:
    """One walk of folders under a boundary: each real folder and file at most once."""

    def __init__(self, boundary: str) -> None:
        self.boundary = os.path.realpath(boundary)
        self.seen_dirs: set[str] = set()
        self.files: dict[str, str] = {}  # real path -> the path it was found at

    def run(self, start: str) -> None:
        if os.path.islink(start) and not is_within(start, self.boundary):
            self._skip(start)
            return
        real_dirs, link_dirs = [start], []
        while real_dirs or link_dirs:
            folder = real_dirs.pop() if real_dirs else link_dirs.pop(0)
            real = os.path.realpath(folder)
            if real in self.seen_dirs:
                continue  # a loop, or a second link to one folder
            self.seen_dirs.add(real)
            for entry, is_link in self._entries(folder):
                if entry.is_dir():
                    (link_dirs if is_link else real_dirs).append(entry.path)
                elif entry.name.endswith(".py") and entry.is_file():
                    target = os.path.realpath(entry.path) if is_link else f"{real}/{entry.name}"
                    self.files.setdefault(target, entry.path)

    def _entries(self, folder: str) -> Iterable[tuple[os.DirEntry[str], bool]]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name in _SKIP_DIRS:
                continue
            is_link = entry.is_symlink()
            if is_link and not is_within(entry.path, self.boundary):
                self._skip(entry.path)
                continue
            yield entry, is_link

    def _skip(self, path: str) -> None:
        log.warning(
            "skipped %s: a symlink to %s, outside the workspace %s",
            path,
            os.path.realpath(path),
            self.boundary,
        )


def _rel(path: str, root: str) -> str:
    prefix = root.rstrip(os.sep) + os.sep
    if path.startswith(prefix):  # the walk's own paths: no relpath() per file
        return path[len(prefix) :].replace(os.sep, "/")
    return os.path.relpath(path, root).replace(os.sep, "/")


def _looks_like_chute_file(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False
    return "Chute(" in text or "_chute(" in text


def _excluded(rel: str, excludes: list[re.Pattern[str]]) -> bool:
    """True when ``rel`` or a folder above it matches an exclude glob."""
    parts = rel.split("/")
    prefixes = ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(rx.match(p) for rx in excludes for p in prefixes)


def _scan(root: str, chutes: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """The ``.py`` files under ``root`` that ``chutes`` select and none excludes.

    Each is named by its real location below ``root`` (a link inside is resolved)."""
    walk = _Walk(root)
    patterns = [_pattern(glob) for glob in chutes]
    excludes = [_pattern(glob)[1] for glob in exclude]
    for base in sorted({b for b, _ in patterns}):
        walk.run(os.path.join(root, base))
    real_root = os.path.realpath(root)
    selected = []
    for real, found in walk.files.items():
        seen, canonical = _rel(found, root), _rel(real, real_root)
        if not any(rx.match("/" + seen) for _, rx in patterns):
            continue
        if not (_excluded(seen, excludes) or _excluded(canonical, excludes)):
            selected.append(os.path.join(root, canonical))
    return selected


def _inside(candidates: list[str], root: str, folder: str) -> list[str]:
    """The candidates (real locations under ``root``) inside ``folder``, a link or not."""
    real_root, real = os.path.realpath(root), os.path.realpath(folder)
    if real == real_root:
        return candidates
    prefix = real.rstrip(os.sep) + os.sep
    return [c for c in candidates if (real_root + c[len(root) :]).startswith(prefix)]


def _no_workspace(workspace: Workspace) -> WorkspaceError:
    return WorkspaceError(
        f"no workspace found: no pyproject.toml with a [tool.chutes-build] table in "
        f"{workspace.root} or a folder above it",
        fix="pass chute files or folders (e.g. `chutes-build ls my_chute.py`), or make a "
        '[tool.chutes-build] table in a pyproject.toml (chutes = ["chutes/**/*.py"])',
    )


def discover(workspace: Workspace, paths: list[str] | None = None) -> list[str]:
    """Absolute paths of the chute files selected by ``paths`` (or the workspace globs).

    Outside a workspace, ``paths`` are required and only they are scanned.
    """
    config, root = workspace.config, workspace.root
    if workspace.pyproject is None and not paths:
        raise _no_workspace(workspace)
    explicit = tuple(config.chutes) != DEFAULT_CHUTES
    candidates = [] if workspace.pyproject is None else _scan(root, config.chutes, config.exclude)
    selected: set[str] = set()
    for raw in paths or [root]:
        path = os.path.abspath(raw)
        if os.path.isfile(path):
            selected.add(path)
            continue
        if not os.path.isdir(path):
            raise WorkspaceError(f"no such file or folder: {raw}", fix="check the path")
        if workspace.pyproject is None:
            inside = _scan(path, DEFAULT_CHUTES, ())
        else:
            inside = _inside(candidates, root, path)
        selected.update(c for c in inside if explicit or _looks_like_chute_file(c))
    return sorted(selected)
