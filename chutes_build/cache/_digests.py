"""File digests with a stat cache, so an unchanged tree is not read again.

A file's digest is the xxh3-128 of its bytes. The digest is remembered with
the file's ``(inode, size, mtime_ns, ctime_ns)``; while those match, the file
is not re-read (git's index does the same). A file modified within
:data:`RACY_NS` of being hashed could change again without its mtime moving,
so such an entry is not remembered ("racily clean", in git's words).
"""

from __future__ import annotations

import os
import stat as stat_mod
import time

import msgspec
import xxhash

from . import _faults
from ._store import Store

__all__ = ["RACY_NS", "FileDigest", "FileDigests", "hash_file", "scope_id"]

#: Entries younger than this (mtime to hashing time) are not trusted later.
RACY_NS = 1_000_000_000
_VERSION = 1
_CHUNK = 1 << 20


class FileDigest(msgspec.Struct, frozen=True, array_like=True):
    digest: str
    mode: int


class _StatEntry(msgspec.Struct, frozen=True, array_like=True):
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    mode: int
    digest: str


class _StatCache(msgspec.Struct):
    version: int
    root: str
    entries: dict[str, _StatEntry]


def scope_id(root: str) -> str:
    """A short stable id for a workspace root, naming its per-workspace records."""
    return xxhash.xxh3_64_hexdigest(os.path.realpath(root).encode())


def hash_file(path: str) -> str:
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


class FileDigests:
    """Digests of files under ``root`` (by workspace-relative path), stat-cached in ``store``."""

    def __init__(self, root: str, store: Store | None = None) -> None:
        self.root = os.path.realpath(root)
        self.store = store
        self._scope = scope_id(self.root)
        self._entries: dict[str, _StatEntry] = {}
        self._memo: dict[str, FileDigest] = {}
        self._dirty = False
        self.hashed = 0
        if store is not None:
            saved = store.load_struct("stat", self._scope, _StatCache)
            if saved is not None and saved.version == _VERSION and saved.root == self.root:
                self._entries = saved.entries

    def get(self, rel: str) -> FileDigest:
        """The digest and permission bits of ``rel``; raises ``OSError`` when it is unreadable."""
        known = self._memo.get(rel)
        if known is not None:
            return known
        path = os.path.join(self.root, rel)
        st = os.stat(path)
        mode = stat_mod.S_IMODE(st.st_mode)
        entry = self._entries.get(rel)
        if (
            entry is not None
            and entry.ino == st.st_ino
            and entry.size == st.st_size
            and entry.mtime_ns == st.st_mtime_ns
            and entry.ctime_ns == st.st_ctime_ns
        ):
            result = FileDigest(entry.digest, mode)
        else:
            result = FileDigest(hash_file(path), mode)
            self.hashed += 1
            _faults.hit("hash.file")
            self._remember(rel, st, result)
        self._memo[rel] = result
        return result

    def _remember(self, rel: str, st: os.stat_result, result: FileDigest) -> None:
        if time.time_ns() - st.st_mtime_ns < RACY_NS:
            if self._entries.pop(rel, None) is not None:
                self._dirty = True
            return
        self._entries[rel] = _StatEntry(
            st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, result.mode, result.digest
        )
        self._dirty = True

    def save(self) -> None:
        """Write the stat cache back when it changed."""
        if self.store is not None and self._dirty:
            self.store.save_struct(
                "stat", self._scope, _StatCache(_VERSION, self.root, self._entries)
            )
            self._dirty = False
