"""The chute's code on disk, as a reload sees it: where files may be written, and how.

A reload receives files by their path relative to the chute's **code root** (the
folder its file is imported from: the workspace root, ``/workspace`` in a local
container). A path is refused unless it names a file inside that root once symlinks
are resolved (no absolute path, no ``..``, no empty or ``.`` part). A file whose bytes
are already those on disk is not written (a workspace mounted read-only already holds
the saved files); any other is written next to itself and renamed into place, so an
import never reads half a file.

Before the chute is imported again, the workspace-local modules already imported are
forgotten (kept aside, so a failed reload can put them back), and the import uses a
fresh ``sys.pycache_prefix``: a file rewritten within the same second at the same size
can never be served from a stale ``.pyc``, and nothing is written into the workspace.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from types import ModuleType

import msgspec

__all__ = [
    "CodeFile",
    "PathRefused",
    "WriteFailed",
    "forget_local_modules",
    "fresh_bytecode",
    "resolve",
    "restore_modules",
    "write_files",
]

#: Packages of chutes-build itself: never forgotten, even when the code root holds them.
_OWN = ("chutes_build", "chutes_runtime", "chutes_recipes", "chutes")
_MAX_PATH = 1024


class CodeFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One file of a reload: ``path`` relative to the code root, ``data`` its bytes."""

    path: str
    data: bytes


class PathRefused(ValueError):
    """A reload named a path outside the code root (or a malformed one)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path!r}: {reason}")
        self.path, self.reason = path, reason


class WriteFailed(OSError):
    """A file of a reload could not be written (read-only folder, full disk)."""

    def __init__(self, path: str, exc: OSError) -> None:
        super().__init__(exc.errno, f"cannot write {path}: {exc.strerror or exc}")
        self.path = path


def resolve(root: str, rel: str) -> str:
    """The real path ``rel`` names under ``root`` (a real path); :class:`PathRefused`
    when it is malformed or lands outside ``root``."""
    if not rel or len(rel) > _MAX_PATH or "\x00" in rel or "\\" in rel:
        raise PathRefused(rel, "not a relative path with / separators")
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise PathRefused(rel, "absolute, or has an empty, '.' or '..' part")
    real = os.path.realpath(os.path.join(root, *parts))
    if not real.startswith(root + os.sep):
        raise PathRefused(rel, "resolves outside the chute's code root")
    if os.path.isdir(real):
        raise PathRefused(rel, "is a folder")
    return real


def _same(path: str, data: bytes) -> bool:
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _replace(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".new")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_files(root: str, files: Sequence[CodeFile]) -> tuple[list[str], list[str]]:
    """Write ``files`` under ``root``; ``(written, unchanged)`` paths as given.

    Every path is checked before anything is written, so a refused path writes nothing.
    """
    targets = [(f, resolve(root, f.path)) for f in files]
    written, unchanged = [], []
    for file, real in targets:
        if _same(real, file.data):
            unchanged.append(file.path)
            continue
        try:
            _replace(real, file.data)
        except OSError as exc:
            raise WriteFailed(file.path, exc) from None
        written.append(file.path)
    return written, unchanged


def _is_local(module: ModuleType, root: str) -> bool:
    file = getattr(module, "__file__", None)
    if not file or module.__name__.partition(".")[0] in _OWN:
        return False
    real = os.path.realpath(file)
    return (
        real.startswith(root + os.sep)
        and "site-packages" not in real
        and not real.startswith(sys.prefix + os.sep)
    )


def forget_local_modules(root: str) -> dict[str, ModuleType]:
    """Drop the workspace-local modules under ``root`` from ``sys.modules``; returned so a
    failed reload can :func:`restore_modules` them."""
    local = {n: m for n, m in list(sys.modules.items()) if m is not None and _is_local(m, root)}
    for name in local:
        sys.modules.pop(name, None)
    return local


def restore_modules(saved: dict[str, ModuleType], root: str) -> None:
    """Put back the modules :func:`forget_local_modules` took, dropping any local module
    the failed import left behind."""
    forget_local_modules(root)
    sys.modules.update(saved)


@contextlib.contextmanager
def fresh_bytecode() -> Iterator[None]:
    """Compile imports into an empty, temporary ``sys.pycache_prefix`` meanwhile."""
    before = sys.pycache_prefix
    folder = tempfile.mkdtemp(prefix="chutes-reload-pyc-")
    sys.pycache_prefix = folder
    try:
        yield
    finally:
        sys.pycache_prefix = before
        shutil.rmtree(folder, ignore_errors=True)
