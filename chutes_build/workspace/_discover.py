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

A :class:`ScanCache` remembers a scan of the workspace's globs with the state of
every folder it listed (see ``definitions/_files.py``), and a warm run reuses it
while none of them changed. A scan that met a symbolic link is not remembered.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import msgspec

from ..core import WorkspaceError, __version__
from ..definitions import folder_states, is_within, settled, states_hold

if TYPE_CHECKING:
    from ._workspace import Workspace

__all__ = ["DEFAULT_CHUTES", "ScanCache", "discover", "using_scans"]

log = logging.getLogger("chutes_build.workspace")

#: Part of every scan's key: a new release may walk differently.
_FORMAT = f"1/{__version__}"

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
        self.links = False  # a link was met: the scan is not remembered
        self.starts: set[str] = set()

    def run(self, start: str) -> None:
        if os.path.islink(start) or os.path.realpath(start) != os.path.normpath(start):
            self.links = True
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
            self.links = self.links or is_link
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


class _Scan(msgspec.Struct, frozen=True, array_like=True):
    files: list[str]
    folders: list[tuple[str, int, int, int]]


class ScanCache:
    """Scans of a workspace's globs by ``(root, chutes, exclude)``, each with the
    folders it listed; ``entries`` is plain data for the caller to store, ``dirty``
    says it changed, ``hits`` counts this run's reuses."""

    entry_type = _Scan

    def __init__(self, entries: dict[str, _Scan] | None = None) -> None:
        self.entries: dict[str, _Scan] = dict(entries or {})
        self.dirty = False
        self.hits = 0

    def scan(self, root: str, chutes: Iterable[str], exclude: Iterable[str]) -> list[str]:
        key = msgspec.json.encode((_FORMAT, root, list(chutes), list(exclude))).decode()
        entry = self.entries.get(key)
        if entry is not None and states_hold(entry.folders):
            self.hits += 1
            return list(entry.files)
        walk = _Walk(root)
        files = _scan(root, chutes, exclude, walk)
        states = folder_states(sorted(walk.seen_dirs | walk.starts))
        if not walk.links and settled(states):
            self.entries = {key: _Scan(files, states)}
            self.dirty = True
        elif self.entries.pop(key, None) is not None:
            self.dirty = True
        return files


_ACTIVE: contextvars.ContextVar[ScanCache | None] = contextvars.ContextVar(
    "chutes_build_scans", default=None
)


@contextlib.contextmanager
def using_scans(cache: ScanCache) -> Iterator[ScanCache]:
    """Route every :func:`discover` call made inside the block (that names no cache of
    its own) through ``cache``."""
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def _scan(
    root: str, chutes: Iterable[str], exclude: Iterable[str], walk: _Walk | None = None
) -> list[str]:
    """The ``.py`` files under ``root`` that ``chutes`` select and none excludes.

    Each is named by its real location below ``root`` (a link inside is resolved)."""
    walk = walk or _Walk(root)
    patterns = [_pattern(glob) for glob in chutes]
    excludes = [_pattern(glob)[1] for glob in exclude]
    for base in sorted({b for b, _ in patterns}):
        start = os.path.join(root, base)
        walk.starts.update(_prefixes(root, base))
        walk.run(start)
    real_root = os.path.realpath(root)
    selected = []
    for real, found in walk.files.items():
        seen, canonical = _rel(found, root), _rel(real, real_root)
        if not any(rx.match("/" + seen) for _, rx in patterns):
            continue
        if not (_excluded(seen, excludes) or _excluded(canonical, excludes)):
            selected.append(os.path.join(root, canonical))
    return selected


def _prefixes(root: str, base: str) -> list[str]:
    """``root`` and each folder from it down to ``root/base`` (whose listings decide a scan)."""
    found, path = [root], root
    for part in [p for p in base.split("/") if p]:
        path = os.path.join(path, part)
        found.append(path)
    return found


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


def discover(
    workspace: Workspace, paths: list[str] | None = None, scans: ScanCache | None = None
) -> list[str]:
    """Absolute paths of the chute files selected by ``paths`` (or the workspace globs).

    Outside a workspace, ``paths`` are required and only they are scanned. With
    ``scans``, the workspace's globs are scanned again only when a folder changed.
    """
    config, root = workspace.config, workspace.root
    if workspace.pyproject is None and not paths:
        raise _no_workspace(workspace)
    explicit = tuple(config.chutes) != DEFAULT_CHUTES
    scans = scans if scans is not None else _ACTIVE.get()
    scan = scans.scan if scans is not None else _scan
    candidates = [] if workspace.pyproject is None else scan(root, config.chutes, config.exclude)
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
