"""Selecting the local files an ``add`` directive sends into an image.

One function answers "which files does this ``add`` select", for the
definition-time check, the graph's keys and the build context alike.
Paths are returned relative to the workspace root, sorted, with ``/``
separators; ``.dockerignore`` and ``.chutesignore`` patterns at the
workspace root exclude files.
"""

from __future__ import annotations

import fnmatch
import glob
import os

from ..core import BuildError

__all__ = ["ChangedWhileBuilding", "is_within", "read_ignore_patterns", "select_files"]


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


def _expand(path: str) -> list[str]:
    if os.path.isdir(path) and not os.path.islink(path):
        found = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            found.extend(os.path.join(dirpath, name) for name in sorted(filenames))
        return found
    return [path]


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
    matches = glob.glob(source, root_dir=origin, recursive=True)
    excluded: set[str] = set()
    for pattern in exclude:
        for hit in glob.glob(pattern, root_dir=origin, recursive=True):
            excluded.add(os.path.normpath(os.path.join(origin, hit)))
    selected: set[str] = set()
    escaping: list[str] = []
    for match in matches:
        absolute = os.path.normpath(os.path.join(origin, match))
        if absolute in excluded:
            continue
        if not is_within(absolute, root):
            escaping.append(match)
            continue
        for path in _expand(absolute):
            if not is_within(path, root):
                escaping.append(os.path.relpath(path, origin))
                continue
            if os.path.normpath(path) in excluded:
                continue
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if not _ignored(rel, ignore):
                selected.add(rel)
    return sorted(selected), sorted(set(escaping))
