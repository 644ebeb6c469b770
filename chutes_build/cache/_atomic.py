"""Atomic files and the checksummed envelope every cache entry is stored in.

An entry is written to a temporary file in the same file system, flushed with
``fsync`` and renamed over its final name, so a reader sees either the old
entry, the new one, or none: never a partial one. Each entry starts with a
magic, the store format version and an xxh3-128 checksum of the payload, so a
torn or foreign file is detected on read (a miss, never a crash).
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import tempfile

import xxhash

from ..core import CacheError
from . import faults as _faults

__all__ = [
    "STORE_VERSION",
    "atomic_write",
    "free_space",
    "human_size",
    "open_envelope",
    "seal",
]

#: Version of the on-disk layout and envelope. A mismatch reads as a miss.
STORE_VERSION = 1

_MAGIC = b"CBC\x01"
_HEADER = struct.Struct("<4sI16s")


def seal(payload: bytes) -> bytes:
    """``payload`` with a header carrying the format version and its checksum."""
    return _HEADER.pack(_MAGIC, STORE_VERSION, xxhash.xxh3_128_digest(payload)) + payload


def open_envelope(data: bytes) -> tuple[bytes | None, str]:
    """Return ``(payload, "")`` when ``data`` is a valid envelope, else ``(None, why)``."""
    if len(data) < _HEADER.size:
        return None, "truncated entry"
    magic, version, checksum = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        return None, "not a cache entry"
    if version != STORE_VERSION:
        return None, f"format version {version}, expected {STORE_VERSION}"
    payload = data[_HEADER.size :]
    if xxhash.xxh3_128_digest(payload) != checksum:
        return None, "checksum mismatch"
    return payload, ""


def human_size(size: float) -> str:
    """``size`` bytes in words: "512 bytes", "12 KiB", "3.4 MiB", "1.2 GiB"."""
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit != "MiB" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def free_space(folder: str) -> str:
    """How much the disk holding ``folder`` has free, in words ("12 KiB free")."""
    try:
        return f"{human_size(shutil.disk_usage(folder).free)} free"
    except OSError:
        return "free space unknown"


def _unusable(path: str, exc: OSError) -> CacheError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why, fix = (
            "is not writable",
            "make it writable, or point CHUTES_BUILD_CACHE_DIR at a writable folder",
        )
    elif exc.errno == errno.ENOSPC:
        why, fix = (
            "is on a full disk",
            f"free space ({free_space(path)} there now), or make room in the cache: "
            "`chutes-build cache gc --max-size 5GB`",
        )
    else:
        why, fix = (
            f"cannot be written ({exc.strerror})",
            "check the folder, or set CHUTES_BUILD_CACHE_DIR",
        )
    return CacheError(f"the cache folder {path} {why}", fix=fix)


def _replace(tmp: str, path: str) -> None:
    """Rename ``tmp`` over ``path``; a directory in the entry's place (not ours) goes first."""
    try:
        os.replace(tmp, path)
    except IsADirectoryError:
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)


def atomic_write(
    path: str, data: bytes, tmp_dir: str, root: str, durable: bool = True, what: str = "entry"
) -> None:
    """Write ``data`` to ``path`` atomically (temp file in ``tmp_dir``, fsync, rename).

    ``what`` names the entry's kind for the fault-injection points (see ``_faults``).
    """
    _faults.hit("write.begin", f"{what}.write.begin")
    try:
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".w-")
    except OSError as exc:
        raise _unusable(root, exc) from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                half = len(data) // 2
                handle.write(memoryview(data)[:half])
                if _faults.counting():  # a torn temporary file, then the kill
                    handle.flush()
                    _faults.hit("write.partial", f"{what}.write.partial")
                handle.write(memoryview(data)[half:])
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            _faults.hit("write.synced", f"{what}.write.synced")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _replace(tmp, path)
        except OSError as exc:
            raise _unusable(root, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _faults.hit("write.replaced", f"{what}.write.replaced")
