"""File digests with a stat cache, so an unchanged tree is not read again.

A file's digest is the xxh3-128 of its bytes. The digest is remembered with
the file's ``(inode, size, mtime_ns, ctime_ns)``; while those match, the file
is not re-read (git's index does the same). A file modified within
:data:`RACY_NS` of being hashed could change again without its mtime moving,
so such an entry is not remembered ("racily clean", in git's words).
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
import time

import msgspec
import xxhash

from . import faults as _faults
from ._store import Store

__all__ = [
    "RACY_NS",
    "FileDigest",
    "FileDigests",
    "NotRegularFile",
    "copy_hashed",
    "file_kind",
    "hash_file",
    "open_regular",
    "scope_id",
]

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


class NotRegularFile(OSError):
    """A path that names a FIFO, a device, a socket or a folder where a file is read."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a regular file", path)
        self.kind = kind


def file_kind(mode: int) -> str:
    """What ``mode`` (from a stat) names, in words: "a FIFO (named pipe)", ..."""
    return next((name for test, name in _KINDS if test(mode)), "a regular file")


_KINDS = (
    (stat_mod.S_ISREG, "a regular file"),
    (stat_mod.S_ISDIR, "a directory"),
    (stat_mod.S_ISFIFO, "a FIFO (named pipe)"),
    (stat_mod.S_ISCHR, "a character device"),
    (stat_mod.S_ISBLK, "a block device"),
    (stat_mod.S_ISSOCK, "a socket"),
    (stat_mod.S_ISLNK, "a symbolic link"),
)


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading without blocking on a FIFO or device; ``(fd, fstat)``.

    Raises :class:`NotRegularFile` for anything but a regular file (after a link)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    st = os.fstat(fd)
    if not stat_mod.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegularFile(path, file_kind(st.st_mode))
    return fd, st


def hash_file(path: str) -> str:
    """The xxh3-128 digest of the regular file at ``path``."""
    fd, _ = open_regular(path)
    try:
        return _hash_fd(fd)
    finally:
        os.close(fd)


def copy_hashed(source: str, target: str) -> tuple[str, int]:
    """Copy the regular file ``source`` to a new file ``target`` in one pass, hashing the
    bytes written; ``(xxh3-128 digest, permission bits)`` of exactly what ``target`` holds.

    ``target`` gets ``source``'s permission bits and modification time (as a copy
    made by ``cp -p`` would); it must not exist yet."""
    fd, st = open_regular(source)
    try:
        mode = stat_mod.S_IMODE(st.st_mode)
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            hasher = xxhash.xxh3_128()
            while chunk := os.read(fd, _CHUNK):
                hasher.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
            os.fchmod(out, mode)
            os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(out)
    finally:
        os.close(fd)
    return hasher.hexdigest(), mode


def _hash_fd(fd: int) -> str:
    hasher = xxhash.xxh3_128()
    while chunk := os.read(fd, _CHUNK):
        hasher.update(chunk)
    return hasher.hexdigest()


def _signature(st: os.stat_result | _StatEntry) -> tuple[int, int, int, int]:
    if isinstance(st, _StatEntry):
        return st.ino, st.size, st.mtime_ns, st.ctime_ns
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


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
        if not stat_mod.S_ISREG(st.st_mode):
            raise NotRegularFile(path, file_kind(st.st_mode))
        entry = self._entries.get(rel)
        if entry is not None and _signature(st) == _signature(entry):
            result = FileDigest(entry.digest, stat_mod.S_IMODE(st.st_mode))
        else:
            result = self._hash(rel, path)
        self._memo[rel] = result
        return result

    def _hash(self, rel: str, path: str) -> FileDigest:
        fd, st = open_regular(path)
        try:
            result = FileDigest(_hash_fd(fd), stat_mod.S_IMODE(st.st_mode))
            after = os.fstat(fd)
        finally:
            os.close(fd)
        self.hashed += 1
        _faults.hit("hash.file")
        if _signature(st) == _signature(after):  # not written while read: safe to remember
            self._remember(rel, st, result)
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
