"""What ``up --target chutes`` does per node: make sure an image exists, deploy a chute.

Both take a :class:`ChutesClient` and plain arguments; the build graph decides
which images and chutes to pass (only changed ones).
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..core import DeployError
from ..definitions import Chute, Image, logo_content_type
from ._client import ChutesClient
from ._errors import ImageConflict, RemoteBuildFailed
from ._payloads import FileSource, build_context, deploy_body, image_digest, image_fields
from ._sse import LogLine

__all__ = [
    "BUILT",
    "ImageResult",
    "deploy",
    "deploy_checked",
    "ensure_image",
    "preflight",
    "upload_logo",
    "wait_for_image",
]

log = logging.getLogger("chutes_build.platform")
BUILT = "built and pushed"
PUBLIC_DEPLOY_BIT = 1 << 11


@dataclass(frozen=True)
class ImageResult:
    """Outcome of :func:`ensure_image`: the platform's id and the content digest uploaded."""

    image_id: str
    digest: str
    created: bool
    status: str


def _suggest_tag(tag: str, digest: str) -> str:
    match = re.match(r"^(.*?)(\d+)$", tag)
    if match:
        return f"{match.group(1)}{int(match.group(2)) + 1}"
    return f"{tag}-{digest[:8]}"[:33]


async def wait_for_image(
    client: ChutesClient,
    image_id: str,
    on_log: Callable[[LogLine], Any] | None = None,
    poll_seconds: float = 5.0,
    max_polls: int = 1440,
) -> dict:
    """Follow the build log, then return the final image row; raise if the build failed."""
    tail: deque[str] = deque(maxlen=20)
    async for line in client.stream_image_logs(image_id):
        tail.append(line.text)
        if on_log is not None:
            on_log(line)
    row = await client.get_image(image_id)
    for _ in range(max_polls):
        status = str(row.get("status", ""))
        if status == BUILT or status.startswith("error"):
            break
        await client.sleep(poll_seconds)
        row = await client.get_image(image_id)
    status = str(row.get("status", ""))
    if status != BUILT:
        shown = "\n".join(f"    {t}" for t in tail)
        raise RemoteBuildFailed(
            f"the platform's build of image {image_id} ended with status {status!r}"
            + (f"; last log lines:\n{shown}" if shown else ""),
            fix="fix the failing step in the image definition, bump the tag and build again",
        )
    return row


async def ensure_image(
    client: ChutesClient,
    image: Image,
    context_files: Mapping[str, FileSource],
    *,
    explicit: Collection[str] = (),
    expected: Mapping[str, tuple[str, int]] | None = None,
    recorded_digest: str | None = None,
    public: bool = False,
    logo_id: str | None = None,
    logo_digest: str | None = None,
    on_log: Callable[[LogLine], Any] | None = None,
) -> ImageResult:
    """Make sure ``image`` is built on the platform; upload and build it when missing.

    ``context_files`` maps context-relative paths to files (or bytes); only they
    are uploaded. An image of the same ``name:tag`` that already exists counts as
    a hit only when ``recorded_digest`` (what this tool uploaded before, from the
    cache) equals the content digest now; otherwise it is an :class:`ImageConflict`.
    ``logo_digest`` (the logo file's digest) is part of that content digest.
    ``expected`` (``{path: (digest, mode)}`` the image's key was computed from) makes a
    file saved since then refuse the upload instead of sending other bytes.
    """
    archive = build_context(context_files, explicit, expected)
    digest = image_digest(str(image), archive, logo_digest)
    existing = await client.get_image(image.uid, missing_ok=True)
    if existing is not None:
        if recorded_digest != digest:
            ref = f"{image.username}/{image.name}:{image.tag}"
            known = (
                "different content" if recorded_digest else "content this workspace did not record"
            )
            raise ImageConflict(
                f"image {ref} already exists on the platform with {known}; "
                "an image name:tag can be built only once",
                fix=f"bump the tag (e.g. tag={_suggest_tag(image.tag, digest)!r}), set "
                "`tag-from-key = true` in [tool.chutes-build] so each content is uploaded under "
                "its own tag, or delete the old image on the platform",
                status=409,
            )
        row = existing
        if str(existing.get("status")) != BUILT:
            row = await wait_for_image(client, image.uid, on_log)
        return ImageResult(str(row.get("image_id", image.uid)), digest, False, BUILT)
    created = await client.create_image(
        image_fields(image, archive, public=public, logo_id=logo_id)
    )
    image_id = str(created["image_id"])
    log.info("uploaded image %s (%d context files), building", image_id, len(archive.files))
    await wait_for_image(client, image_id, on_log)
    return ImageResult(image_id, digest, True, BUILT)


async def upload_logo(client: ChutesClient, path: str) -> str:
    """Upload the logo file at ``path`` (POST /logos/) and return its ``logo_id``."""
    with open(path, "rb") as handle:
        data = handle.read()
    content_type = logo_content_type(data)
    if content_type is None:
        raise DeployError(
            f"logo {path} is not a PNG, JPEG, WebP or GIF image",
            fix="use a .png, .jpg/.jpeg, .webp or .gif file",
        )
    answer = await client.upload_logo(os.path.basename(path), data, content_type)
    return str(answer["logo_id"])


async def preflight(client: ChutesClient, name: str, image: str, public: bool) -> None:
    """Before a deploy: the chute's image is built on the platform (and public when the
    chute is), and the account may deploy public chutes when it is public."""
    row = await client.get_image(image, missing_ok=True)
    if row is None or row.get("status") != BUILT:
        state = "does not exist" if row is None else f"has status {row.get('status')!r}"
        raise DeployError(
            f"chute {name!r}: its image {image} {state} on the platform",
            fix="build the image first (chutes-build up --target chutes builds it)",
        )
    if public and not row.get("public"):
        raise DeployError(
            f"chute {name!r} is public but its image {image} is not",
            fix="build the image with public=True, or deploy the chute privately",
        )
    if public:
        me = await client.get_me()
        allowed = int(me.get("permissions_bitmask") or 0) & PUBLIC_DEPLOY_BIT
        if not allowed and "Allow deploying models publicly." not in me.get("permissions", []):
            raise DeployError(
                "this account may not deploy public chutes",
                fix="deploy privately and share it: chutes-build share CHUTE --user USER",
            )


async def deploy_checked(client: ChutesClient, body: dict, *, accept_fee: bool = False) -> dict:
    """The preflight checks, then ``POST /chutes/`` with ``body`` (see ``deploy_body``);
    returns the platform's ChuteResponse. Every deploy goes through here."""
    await preflight(client, body["name"], body["image"], body["public"])
    return await client.deploy_chute(body, accept_fee=accept_fee)


async def deploy(
    client: ChutesClient,
    chute: Chute,
    code: str,
    filename: str,
    ref_str: str,
    *,
    accept_fee: bool = False,
    public: bool = False,
    logo_id: str | None = None,
) -> dict:
    """Deploy (create or update) ``chute`` and return the platform's ChuteResponse."""
    body = deploy_body(
        chute, code=code, filename=filename, ref_str=ref_str, public=public, logo_id=logo_id
    )
    return await deploy_checked(client, body, accept_fee=accept_fee)
