"""Selecting the local files an ``add`` directive sends into an image.

One function answers "which files does this ``add`` select", for the
definition-time check, the graph's keys and the build context alike.
Paths are returned relative to the workspace root, sorted, with ``/``
separators; ``.dockerignore`` and ``.chutesignore`` patterns at the
workspace root exclude files.

A warm run need not glob again: a :class:`SelectionCache` (the one
:func:`using_selections` makes active, else one this process keeps in memory)
remembers a selection with the state of every folder whose listing decides it
(inode, mtime and ctime, as the stat cache does for files) and reuses it while
all of them are unchanged. Adding, removing
or renaming an entry changes its folder's mtime. Selections that meet a
symbolic link, or whose folders changed within :data:`RACY_NS` of being
listed, are never remembered.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import glob
import os
import time
from collections.abc import Iterator

import msgspec

from ..core import BuildError, __version__

__all__ = [
    "RACY_NS",
    "ChangedWhileBuilding",
    "SelectionCache",
    "folder_states",
    "is_within",
    "read_ignore_patterns",
    "select_files",
    "settled",
    "states_hold",
    "using_selections",
]

#: Part of every selection's key: a new release may select differently.
_FORMAT = f"1/{__version__}"
#: A folder changed less than this before it was listed may change again unseen.
RACY_NS = 1_000_000_000

#: ``(path, inode, mtime_ns, ctime_ns)`` of a folder; a missing one is ``(path, 0, 0, 0)``.
FolderState = tuple[str, int, int, int]


class ChangedWhileBuilding(BuildError):
    """A file an image adds is not the content its cache key was computed from."""

    def __init__(self, rel: str, where: str = "the build context") -> None:
        super().__init__(
            f"{rel} changed while building: {where} does not hold the content the image's "
            "cache key was computed from, so nothing was recorded for it",
            fix="run again (the file is hashed anew); saving files that an image adds "
            "while it builds makes the build start over",
        )


def is_within(path: str, root: str) -> bool:
    """True when ``path`` (after resolving symlinks) is ``root`` or below it."""
    real = os.path.realpath(path)
    real_root = os.path.realpath(root)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def read_ignore_patterns(root: str) -> tuple[str, ...]:
    """Patterns from ``.dockerignore`` and ``.chutesignore`` at ``root`` (comments dropped)."""
    patterns: list[str] = []
    for name in (".dockerignore", ".chutesignore"):
        path = os.path.join(root, name)
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line.lstrip("/").rstrip("/"))
    return tuple(patterns)


def _ignored(rel: str, patterns: tuple[str, ...]) -> bool:
    ignored = False
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        hit = any(fnmatch.fnmatchcase(prefix, pat) for prefix in prefixes) or (
            pat.startswith("**/") and any(fnmatch.fnmatchcase(p, pat[3:]) for p in parts)
        )
        if hit:
            ignored = not negate
    return ignored


def _within(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _expand(path: str) -> list[tuple[str, bool]]:
    """``(file, is_link)`` for each file under folder ``path`` (``path`` itself when it is
    no folder). Links to folders are not followed, as ``os.walk`` does not follow them."""
    if not os.path.isdir(path) or os.path.islink(path):
        return [(path, False)]
    found, folders = [], [path]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            link = entry.is_symlink()
            if entry.is_dir():
                if not link:
                    folders.append(entry.path)
            else:
                found.append((entry.path, link))
    return found


def select_files(
    source: str,
    origin: str,
    root: str,
    exclude: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
) -> tuple[list[str], list[str]]:
    """Resolve an ``add`` source glob.

    Returns ``(selected, escaping)``: workspace-relative paths of regular files
    selected (directories expanded, excludes and ignore patterns applied), and
    the matches that resolve outside ``root`` (which the caller reports).
    """
    cache = _ACTIVE.get()
    if cache is None:  # this process's own: many chutes add one shared folder
        cache = _PROCESS if len(_PROCESS.entries) < _PROCESS_LIMIT else _PROCESS.clear()
    return cache.select(source, origin, root, tuple(exclude), tuple(ignore))


def _select(
    source: str,
    origin: str,
    root: str,
    exclude: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
) -> tuple[list[str], list[str]]:
    matches = glob.glob(source, root_dir=origin, recursive=True)
    excluded: set[str] = set()
    for pattern in exclude:
        for hit in glob.glob(pattern, root_dir=origin, recursive=True):
            excluded.add(os.path.normpath(os.path.join(origin, hit)))
    real_root = os.path.realpath(root)
    prefix = root.rstrip(os.sep) + os.sep
    selected: set[str] = set()
    escaping: list[str] = []
    for match in matches:
        absolute = os.path.normpath(os.path.join(origin, match))
        if absolute in excluded:
            continue
        if not _within(os.path.realpath(absolute), real_root):
            escaping.append(match)
            continue
        # Below a match that resolves inside the workspace, only a link can lead out of it.
        for path, link in _expand(absolute):
            if link and not _within(os.path.realpath(path), real_root):
                escaping.append(os.path.relpath(path, origin))
                continue
            if path in excluded:
                continue
            if path.startswith(prefix):
                rel = path[len(prefix) :].replace(os.sep, "/")
            else:
                rel = os.path.relpath(path, root).replace(os.sep, "/")
            if not _ignored(rel, ignore):
                selected.add(rel)
    return sorted(selected), sorted(set(escaping))


# -- the selection cache ---------------------------------------------------------------------


def folder_states(paths) -> list[FolderState]:
    """The state of each folder in ``paths`` (not following links)."""
    states = []
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            states.append((path, 0, 0, 0))
            continue
        states.append((path, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
    return states


def states_hold(states) -> bool:
    """True when every folder is still in the recorded state."""
    now = folder_states(state[0] for state in states)
    return all(tuple(s) == n for s, n in zip(states, now, strict=True))


def settled(states) -> bool:
    """True when no folder changed within :data:`RACY_NS` (so a later change moves its mtime)."""
    now = time.time_ns()
    return all(now - mtime >= RACY_NS for _, _, mtime, _ in states)


class _Selection(msgspec.Struct, frozen=True, array_like=True):
    selected: list[str]
    escaping: list[str]
    folders: list[FolderState]


class SelectionCache:
    """``add()`` selections by their arguments, each with the folders that decide it.

    ``entries`` is plain data (a ``dict`` of msgspec structs) for the caller to
    store; ``dirty`` says it changed; ``hits`` and ``misses`` count this run's look-ups.
    While ``calls`` is a list, each look-up appends ``(arguments, selected, escaping)``.
    """

    def __init__(self, entries: dict[str, _Selection] | None = None) -> None:
        self.entries: dict[str, _Selection] = dict(entries or {})
        self.used: set[str] = set()
        self.dirty = False
        self.hits = self.misses = 0
        self.calls: list[tuple[tuple, list[str], list[str]]] | None = None

    entry_type = _Selection

    def select(self, source, origin, root, exclude, ignore) -> tuple[list[str], list[str]]:
        selected, escaping = self._select(source, origin, root, exclude, ignore)
        if self.calls is not None:
            self.calls.append(((source, origin, root, exclude, ignore), selected, escaping))
        return list(selected), list(escaping)

    def _select(self, source, origin, root, exclude, ignore) -> tuple[list[str], list[str]]:
        key = _KEY.encode((_FORMAT, source, origin, root, exclude, ignore)).decode()
        self.used.add(key)
        entry = self.entries.get(key)
        if entry is not None and states_hold(entry.folders):
            self.hits += 1
            return entry.selected, entry.escaping
        self.misses += 1
        selected, escaping = _select(source, origin, root, exclude, ignore)
        folders = _deciding_folders(source, origin, root, exclude)
        if folders is not None and settled(states := folder_states(sorted(folders))):
            self.entries[key] = _Selection(selected, escaping, states)
            self.dirty = True
        elif self.entries.pop(key, None) is not None:
            self.dirty = True
        return selected, escaping

    def clear(self) -> SelectionCache:
        self.entries.clear()
        self.used.clear()
        return self

    def kept(self, limit: int = 20_000) -> dict[str, _Selection]:
        """The entries worth storing: this run's, and older ones while under ``limit``."""
        if len(self.entries) <= limit:
            return self.entries
        return {k: v for k, v in self.entries.items() if k in self.used}


_KEY = msgspec.json.Encoder()
#: Selections made outside :func:`using_selections`, checked like any other.
_PROCESS = SelectionCache()
_PROCESS_LIMIT = 4096
_ACTIVE: contextvars.ContextVar[SelectionCache | None] = contextvars.ContextVar(
    "chutes_build_selections", default=None
)


@contextlib.contextmanager
def using_selections(cache: SelectionCache) -> Iterator[SelectionCache]:
    """Route every :func:`select_files` call made inside the block through ``cache``."""
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


_MAGIC = frozenset("*?[")


def _deciding_folders(source, origin, root, exclude) -> set[str] | None:
    """The folders whose listings decide a selection; ``None`` when a link is involved
    or a pattern leaves the workspace (such a selection is not remembered)."""
    folders: set[str] = set()
    real_root = os.path.realpath(root)
    if os.path.realpath(origin) != os.path.normpath(origin):
        return None  # a link on the way: ``..`` in a pattern would not be what it seems
    for pattern in (source, *exclude):
        if not _pattern_folders(os.path.join(origin, pattern), real_root, folders):
            return None
    return folders


def _pattern_folders(pattern: str, root: str, folders: set[str]) -> bool:
    absolute = os.path.normpath(pattern)
    if not absolute.startswith(root + os.sep):
        return False
    parts = absolute[len(root) + 1 :].split(os.sep)
    path = root
    folders.add(root)
    for i, part in enumerate(parts):
        if _MAGIC & set(part):
            return _tree(path, folders)
        path = os.path.join(path, part)
        if os.path.islink(path):
            return False
        if not os.path.isdir(path):
            return True  # a file or nothing: its folder's listing decides
        if i == len(parts) - 1:
            return _tree(path, folders)
        folders.add(path)
    return True


def _tree(folder: str, folders: set[str]) -> bool:
    """Add ``folder`` and every folder below it; False when an entry is a link."""
    folders.add(folder)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return True
    for entry in entries:
        if entry.is_symlink():
            return False
        if entry.is_dir(follow_symlinks=False) and not _tree(entry.path, folders):
            return False
    return True
