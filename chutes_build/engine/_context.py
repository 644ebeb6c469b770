"""Build contexts: the files an image's ``add`` layers select, with secrets refused,
copied so that a context holds exactly the bytes its keys were computed from.

Local BuildKit contexts and the chutes platform's upload zip are both made from
the ``files`` of layer nodes (workspace-relative paths). A file that looks like a
secret (:func:`~chutes_build.workspace._secret_files.secret_reason`: ``.env``, SSH keys,
PEM private keys, cloud credentials, the SDK's ``config.ini``) is refused unless
the ``add()`` that selects it names the file itself (not a folder or a glob that
happens to reach it): then putting it in the image is the user's decision.

A file is hashed when the graph is compiled and put in a context later, so it may
have been saved in between. :func:`materialize` therefore copies each file (never a
hard link: an in-place edit would change the context too) while hashing the bytes
it copies, and refuses the build (:class:`ChangedWhileBuilding`) when they are not
what the key used; :func:`check_context` hashes the context again after the build,
before anything is recorded.
"""

from __future__ import annotations

import errno
import glob
import os
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from ..cache import (
    NotRegularFile,
    copy_hashed,
    free_space,
    hash_file,
    human_size,
    open_regular,
)
from ..cache import faults as _faults
from ..core import BuildError
from ..definitions import ChangedWhileBuilding
from ..workspace import secret_reason

__all__ = [
    "ChangedWhileBuilding",
    "SecretInContext",
    "check_context",
    "context_files",
    "context_write_failure",
    "disk_full",
    "expected_digests",
    "explicit_path",
    "materialize",
]

#: ``{context path: (xxh3-128 digest, permission bits)}`` the keys were computed from.
Expected = Mapping[str, tuple[str, int]]


class SecretInContext(BuildError):
    """A build context would carry a file that looks like a secret."""


def explicit_path(directive: dict[str, Any]) -> str | None:
    """The workspace-relative file an ``add`` directive names itself, or None for a
    glob or a folder (whether it is a folder is decided by the selected files)."""
    source = str(directive.get("source") or "")
    if not source or directive.get("is_url") or glob.has_magic(source):
        return None
    origin = str(directive.get("origin") or "").replace(os.sep, "/")
    return posixpath.normpath(posixpath.join(origin or ".", source.replace(os.sep, "/")))


def _add_call(directive: dict[str, Any]) -> str:
    return f"add({directive.get('source')!r}, {directive.get('dest')!r})"


def _check(root: str, attrs: Any, path: str, image: str | None) -> None:
    directive = attrs.directive or {}
    if explicit_path(directive) == path:
        return
    full = os.path.join(root, *path.split("/"))

    def read() -> bytes:
        try:
            fd, _ = open_regular(full)  # never blocks on a FIFO
        except OSError:
            return b""
        with os.fdopen(fd, "rb") as handle:
            return handle.read(1 << 20)

    reason = secret_reason(path, read)
    if reason is None:
        return
    where = f" of image {image}" if image else ""
    raise SecretInContext(
        f"refusing to put {path} in the build context{where}: it looks like {reason}; "
        f"it is selected by {_add_call(directive)} (a folder or glob, not the file itself)",
        fix=f"exclude it (add(..., exclude=[{posixpath.basename(path)!r}]) or a "
        ".dockerignore/.chutesignore line), move it out of the added folder, or, if it "
        f"really belongs in the image, add it by name: add({path!r}, ...)",
        file=path,
    )


def context_files(
    graph, layer_keys: Iterable[str], image: str | None = None
) -> tuple[dict[str, str], set[str]]:
    """``({relative path: absolute path}, explicit paths)`` of the files ``layer_keys``
    put in a context; raises :class:`SecretInContext` for a secret-looking file that
    no ``add()`` names explicitly."""
    files: dict[str, str] = {}
    explicit: set[str] = set()
    for key in layer_keys:
        attrs = graph.node(key)
        named = explicit_path(attrs.directive or {})
        for item in attrs.files or ():
            path = item["path"]
            _check(graph.root, attrs, path, image)
            files[path] = os.path.join(graph.root, *path.split("/"))
            if named == path:
                explicit.add(path)
    return files, explicit


def expected_digests(graph, layer_keys: Iterable[str]) -> dict[str, tuple[str, int]]:
    """``{relative path: (digest, mode)}`` of the files ``layer_keys`` add, as keyed."""
    return {
        item["path"]: (item["digest"], item["mode"])
        for key in layer_keys
        for item in graph.node(key).files
    }


def materialize(context: Mapping[str, str], root: str, expected: Expected) -> None:
    """Copy each source into ``root`` at its context path, hashing what is copied; raise
    :class:`ChangedWhileBuilding` for a file that differs from its ``expected`` entry."""
    _faults.hit("context.begin", context=root)
    made = {root}
    for rel, source in context.items():
        target = os.path.join(root, *rel.split("/"))
        folder = os.path.dirname(target)
        try:
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            found = copy_hashed(source, target)
        except (FileNotFoundError, NotADirectoryError, NotRegularFile):
            if rel in expected:
                raise ChangedWhileBuilding(rel) from None
            raise BuildError(
                f"build context file {source} (for {rel!r}) does not exist or is not a file",
                fix="restore the file, or change the image definition that adds it",
            ) from None
        if rel in expected and found != tuple(expected[rel]):
            raise ChangedWhileBuilding(rel)
        _faults.hit("context.copied", context=root)


def check_context(root: str, expected: Expected) -> None:
    """Hash the context at ``root`` again: after a build, before its result is recorded."""
    for rel, (digest, _mode) in expected.items():
        try:
            found = hash_file(os.path.join(root, *rel.split("/")))
        except OSError:
            found = None
        if found != digest:
            raise ChangedWhileBuilding(rel, "the build context, read again after the build,")


def context_write_failure(folder: str, exc: OSError, sources: Iterable[str] = ()) -> BuildError:
    """The error for a context or Dockerfile that cannot be written under ``folder``."""
    if exc.errno == errno.ENOSPC:
        return disk_full(folder, sources)
    return BuildError(
        f"cannot write the build context in {folder}: {exc.strerror}",
        fix="check that folder's permissions, or set TMPDIR to another folder",
    )


def disk_full(folder: str, sources: Iterable[str] = ()) -> BuildError:
    """The error for a full disk under ``folder``: where, how much is left and needed, the fix."""
    needed = 0
    for source in sources:
        try:
            needed += os.stat(source).st_size
        except OSError:
            continue
    wanted = f"; the context needs {human_size(needed)}" if needed else ""
    return BuildError(
        f"no space left in {folder} for the build context ({free_space(folder)}{wanted})",
        fix="free space there (`chutes-build cache gc --max-size 5GB` trims the cache when "
        "it shares that disk), or set TMPDIR to a folder on a disk with room",
    )
