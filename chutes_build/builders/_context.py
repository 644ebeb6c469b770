"""Build contexts: the files an image's ``add`` layers select, with secrets refused.

Local BuildKit contexts and the chutes platform's upload zip are both made from
the ``files`` of layer nodes (workspace-relative paths). A file that looks like a
secret (:func:`~chutes_build._secret_files.secret_reason`: ``.env``, SSH keys,
PEM private keys, cloud credentials, the SDK's ``config.ini``) is refused unless
the ``add()`` that selects it names the file itself (not a folder or a glob that
happens to reach it): then putting it in the image is the user's decision.
"""

from __future__ import annotations

import glob
import os
import posixpath
from collections.abc import Iterable
from typing import Any

from .._errors import BuildError
from .._secret_files import secret_reason

__all__ = ["SecretInContext", "context_files", "explicit_path"]


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


def _check(root: str, attrs: dict[str, Any], path: str, image: str | None) -> None:
    directive = attrs.get("directive") or {}
    if explicit_path(directive) == path:
        return
    full = os.path.join(root, *path.split("/"))

    def read() -> bytes:
        try:
            with open(full, "rb") as handle:
                return handle.read(1 << 20)
        except OSError:
            return b""

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
        named = explicit_path(attrs.get("directive") or {})
        for item in attrs.get("files") or ():
            path = item["path"]
            _check(graph.root, attrs, path, image)
            files[path] = os.path.join(graph.root, *path.split("/"))
            if named == path:
                explicit.add(path)
    return files, explicit
