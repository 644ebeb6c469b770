"""Logos of chutes and images: a PNG, JPEG, WebP or GIF file inside the workspace.

``Chute(..., logo="logo.png")`` and ``Image(..., logo="logo.png")`` name the file
relative to the calling file's folder (like ``add()`` sources). It is checked when
the definition is evaluated: it must exist inside the workspace and be an image by
both its extension and its first bytes. The chutes target uploads it once
(``POST /logos/``) and sends the returned ``logo_id``.
"""

from __future__ import annotations

import os

from ..core import DefinitionError
from ._context import caller_folder, is_remote, workspace_root
from ._files import is_within

__all__ = ["LOGO_EXTENSIONS", "logo_content_type", "resolve_logo"]

#: Extension -> the content type its file must have.
LOGO_EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
_FIX_KIND = "use a .png, .jpg/.jpeg, .webp or .gif file"


def logo_content_type(data: bytes) -> str | None:
    """The image content type of ``data`` by its magic bytes, or None when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def resolve_logo(logo: object, what: str) -> str | None:
    """The absolute path of ``logo`` (relative to the calling file's folder), checked.

    ``what`` names the owner in messages ("chute 'x'", "image 'y'"). Raises
    :class:`DefinitionError` (located at the user's call) when the file is missing,
    outside the workspace, or not an image.
    """
    if logo is None:
        return None
    if not isinstance(logo, str | os.PathLike) or not os.fspath(logo).strip():
        raise DefinitionError(
            f"{what}: logo must be a file path, got {logo!r}",
            fix="pass logo='logo.png' (relative to this file's folder)",
            field="$.logo",
        )
    logo = os.fspath(logo)
    if is_remote():  # inside a deployed instance the file is not there
        return logo
    origin = caller_folder()
    if os.path.isabs(logo):
        raise DefinitionError(
            f"{what}: logo {logo!r} is an absolute path",
            fix="give the path relative to the chute file's folder",
            field="$.logo",
        )
    path = os.path.realpath(os.path.join(origin, logo))
    root = os.path.realpath(workspace_root.get() or origin)
    if not is_within(path, root):
        raise DefinitionError(
            f"{what}: logo {logo!r} is outside the workspace root {root}",
            fix="move the logo into the workspace",
            field="$.logo",
        )
    _check_image(path, logo, what)
    return path


def _check_image(path: str, logo: str, what: str) -> None:
    expected = LOGO_EXTENSIONS.get(os.path.splitext(path)[1].lower())
    if expected is None:
        raise DefinitionError(
            f"{what}: logo {logo!r} is not an image file by its extension",
            fix=_FIX_KIND,
            field="$.logo",
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise DefinitionError(
            f"{what}: logo {logo!r} does not exist ({path})",
            fix="check the path; it is resolved relative to the chute file's folder",
            field="$.logo",
        ) from None
    except OSError as exc:
        raise DefinitionError(
            f"{what}: cannot read logo {logo!r}: {exc.strerror}",
            fix="check that it is a readable file",
            field="$.logo",
        ) from None
    found = logo_content_type(head)
    if found != expected:
        shown = "not an image" if found is None else f"an {found} file"
        raise DefinitionError(
            f"{what}: logo {logo!r} is {shown}, but its extension says {expected}",
            fix=_FIX_KIND + " whose content matches its extension",
            field="$.logo",
        )
