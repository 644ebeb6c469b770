"""The local disk store: one file per entry under a cache folder.

Layout (``STORE_VERSION`` 1)::

    <root>/cas/ab/ab12...      blobs, named by the xxh3-128 digest of their bytes
    <root>/ac/cd/cd34...       action results (checksummed envelopes)
    <root>/records/<ns>/<name> stat cache, evaluation cache, recorded graphs
    <root>/tmp/                temporary files, renamed into place when complete
    <root>/stats.log           hit and miss counts, one appended line per process

A file's mtime is its last use: reads touch it, and ``gc`` evicts the oldest.
Two processes may share a folder: every write is a rename of a complete file,
and the counters are appended with one ``write`` each.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import time

from .. import noop
from ..core import CacheError
from ._atomic import atomic_write
from ._digests import file_kind
from ._store import _COUNTERS, AREAS, BadEntry, Entry, Store

__all__ = ["DiskStore", "default_cache_dir"]

_STALE_TMP = 3600.0


def default_cache_dir(configured: str | None = None, workspace_root: str | None = None) -> str:
    """Where the cache lives: ``$CHUTES_BUILD_CACHE_DIR``, else the workspace's
    ``cache_dir`` (relative to its root), else ``$XDG_CACHE_HOME/chutes-build``
    (``~/.cache/chutes-build``)."""
    env = os.environ.get("CHUTES_BUILD_CACHE_DIR")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    if configured:
        path = os.path.expanduser(configured)
        return os.path.abspath(os.path.join(workspace_root or os.getcwd(), path))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "chutes-build")


def _read_file(path: str) -> bytes | None:
    """The bytes of the regular file at ``path`` (``None`` when absent), read without
    blocking or following a link, and no more than the size it had when opened.
    Anything else in an entry's place raises :class:`BadEntry` saying what it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise BadEntry(f"unreadable ({exc.strerror})") from None
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        raise BadEntry(f"{file_kind(mode)}, not a regular file") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadEntry(f"{file_kind(st.st_mode)}, not a regular file")
        chunks, left = [], st.st_size
        while left > 0 and (chunk := os.read(fd, left)):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _scan(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as found:
            return list(found)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _folder(path: str) -> None:
    """Make the folder ``path`` unless it is there: ``mkdir`` alone, which a no-op record
    does not take for a read (``os.makedirs`` checks what it finds with ``stat``, which
    would make every later write in the folder a change to what the run read)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass


class DiskStore(Store):
    """A :class:`Store` in a folder; safe to share between processes."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = self.location = os.path.abspath(root)
        self._tmp = os.path.join(self.root, "tmp")
        try:
            os.makedirs(self.root, exist_ok=True)
            # and "noop", where the console script keeps its no-op records (``noop``) when
            # this is $CHUTES_BUILD_CACHE_DIR or the user's cache: made with the rest, so
            # that making it later does not change the folder a recorded run read
            for area in (*AREAS, "tmp", "noop"):
                _folder(os.path.join(self.root, area))
        except OSError as exc:
            raise CacheError(
                f"cannot create the cache folder {self.root}: {exc.strerror}",
                fix="point CHUTES_BUILD_CACHE_DIR (or cache_dir in pyproject.toml) "
                "at a writable folder",
            ) from None
        if not os.access(self.root, os.W_OK) or not os.access(self._tmp, os.W_OK):
            raise CacheError(
                f"the cache folder {self.root} is read-only",
                fix="make it writable, or point CHUTES_BUILD_CACHE_DIR at a writable folder",
            )

    def _path(self, area: str, name: str) -> str:
        if area == "records":
            return os.path.join(self.root, area, *name.split("/"))
        return f"{self.root}{os.sep}{area}{os.sep}{name[:2]}{os.sep}{name}"

    def _peek(self, area: str, name: str) -> bytes | None:
        return _read_file(self._path(area, name))

    def _read(self, area: str, name: str) -> bytes | None:
        path = self._path(area, name)
        data = _read_file(path)
        if data is None:
            return None
        try:
            os.utime(path)
        except OSError:
            pass
        else:
            noop.entry_used(path)
        return data

    def _write(self, area: str, name: str, data: bytes, durable: bool = True) -> None:
        what = name.partition("/")[0] if area == "records" else area
        atomic_write(self._path(area, name), data, self._tmp, self.root, durable, what)

    def _stamps(self, area: str, names: list[str]) -> list[tuple[int, ...] | None]:
        """``(inode, size, mtime_ns, ctime_ns)`` of each regular file, ``()`` where there
        is none (one loop: a warm plan stamps every node's entry)."""
        lstat, regular, path = os.lstat, stat.S_ISREG, self._path
        found: list[tuple[int, ...] | None] = []
        for name in names:
            try:
                st = lstat(path(area, name))
            except (FileNotFoundError, NotADirectoryError):
                found.append(())
                continue
            except OSError:
                found.append(None)
                continue
            if regular(st.st_mode):
                found.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            else:
                found.append(None)
        return found

    def _settled(self, stamp: tuple[int, ...], racy_ns: int) -> bool:
        return time.time_ns() - stamp[2] >= racy_ns

    def _exists(self, area: str, name: str) -> bool:
        """A regular file holds the entry (what sits in its place otherwise is a miss)."""
        try:
            return stat.S_ISREG(os.lstat(self._path(area, name)).st_mode)
        except OSError:
            return False

    def _remove(self, area: str, name: str) -> int:
        path = self._path(area, name)
        try:
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):  # a directory in an entry's place: not ours
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except FileNotFoundError:
            return 0
        return st.st_size

    def entries(self) -> list[Entry]:
        """Every name under ``<area>/<shard or namespace>/``, whatever it is (``verify``
        reports what is not a regular file; ``gc`` can remove it)."""
        found = []
        for area in AREAS:
            for folder in _scan(os.path.join(self.root, area)):
                if not folder.is_dir(follow_symlinks=False):
                    continue
                for item in _scan(folder.path):
                    try:
                        st = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    name = f"{folder.name}/{item.name}" if area == "records" else item.name
                    found.append(Entry(area, name, st.st_size, st.st_mtime))
        return found

    def gc(self, max_size=None, older_than=None, now=None):
        """Evict as :meth:`Store.gc` does, fold ``stats.log`` into one line (counts
        appended meanwhile may be lost: they are statistics), and remove temporary
        files that a killed process left behind (older than an hour)."""
        result = super().gc(max_size=max_size, older_than=older_than, now=now)
        totals = json.dumps(self._saved_counters(), separators=(",", ":")) + "\n"
        atomic_write(os.path.join(self.root, "stats.log"), totals.encode(), self._tmp, self.root)
        cutoff = (time.time() if now is None else now) - _STALE_TMP
        with os.scandir(self._tmp) as found:
            for entry in found:
                try:
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                except FileNotFoundError:
                    continue
        return result

    def _saved_counters(self) -> dict[str, int]:
        totals = dict.fromkeys(_COUNTERS, 0)
        try:
            data = _read_file(os.path.join(self.root, "stats.log"))
        except BadEntry:
            data = None
        if data is None:
            return totals
        lines = data.decode("utf-8", "replace").splitlines()
        for line in lines:
            try:
                counts = json.loads(line)
            except ValueError:
                continue
            if isinstance(counts, dict):
                for name in _COUNTERS:
                    value = counts.get(name, 0)
                    totals[name] += value if isinstance(value, int) else 0
        return totals

    def flush_stats(self) -> None:
        if not any(self._counters.values()):
            return
        line = (json.dumps(self._counters, separators=(",", ":")) + "\n").encode()
        try:
            fd = os.open(
                os.path.join(self.root, "stats.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
            )
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
            noop.log_appended(os.path.join(self.root, "stats.log"), line)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EROFS, errno.ENOSPC, errno.EPERM):
                raise
            return
        self._counters = dict.fromkeys(_COUNTERS, 0)

    def __repr__(self) -> str:
        return f"DiskStore({self.root!r})"
