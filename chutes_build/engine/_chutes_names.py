"""Names and logos of the chutes target: keyed tags and the logo uploads.

- ``tag-from-key = true`` uploads an image as ``<tag>-<first 8 hex of its node key>``
  (:func:`remote_tag`, within the platform's 33 characters), whose platform id is
  :func:`remote_uid`; a content change is then a new ``name:tag``, never a conflict.
- A logo (``logo=`` of a chute or an image, keyed by its content digest) is uploaded
  once per API (``POST /logos/``) by the graph's logo node, which the image and deploy
  nodes that show it run after; its ``logo_id`` is recorded under :func:`remote_logo_key`.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

from ..cache import ActionResult
from ..graph import logo_key, node_key
from ._orchestrate import BuildContext, Work

__all__ = [
    "TAG_RE",
    "logo_rows",
    "logo_task",
    "logos_of",
    "remote_logo_key",
    "remote_tag",
    "remote_uid",
]

TARGET = "chutes"


def remote_logo_key(digest: str, api_url: str) -> str:
    """Where the ``logo_id`` of a logo (by content digest) uploaded to ``api_url`` is recorded."""
    payload = {"target": TARGET, "api": api_url.rstrip("/"), "digest": digest}
    return node_key("remote-logo", payload, ())


#: The platform's tag rule (CHUTES_API.md §3.2): 2 to 33 of these characters.
TAG_RE = re.compile(r"^[a-z0-9_./-]{2,33}$", re.I)
_KEY_SUFFIX = 9  # "-" and 8 hex digits


def remote_tag(tag: str, image_key: str, tag_from_key: bool) -> str:
    """The tag an image is uploaded under: ``tag``, or ``<tag>-<key[:8]>`` with
    ``tag-from-key`` (the user's tag cut so the result stays within 33 characters)."""
    if not tag_from_key:
        return tag
    return f"{tag[: 33 - _KEY_SUFFIX]}-{image_key[:8]}"


def remote_uid(username: str, name: str, tag: str) -> str:
    """The platform's image id of ``username/name:tag``: uuid5 of the lowercased reference."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{username}/{name}:{tag}".lower()))


def logos_of(graph) -> dict[str, str]:
    """``{digest: workspace-relative path}`` of every logo an image or chute names."""
    found: dict[str, str] = {}
    for key in [*graph.keys("image"), *graph.keys("deploy")]:
        logo = graph.node(key).logo
        if logo:
            found.setdefault(logo["digest"], logo["path"])
    return found


def logo_rows(graph, store, api_url: str, dirty: set[str]) -> list[dict[str, Any]]:
    """One row per logo: ``cached`` (its id is recorded), ``upload`` (a dirty image or
    chute needs it) or ``unused`` (nothing sent in this run shows it)."""
    needed = {graph.node(k).logo["digest"] for k in dirty if graph.node(k).logo}
    rows = []
    for digest, path in sorted(logos_of(graph).items()):
        rkey = remote_logo_key(digest, api_url)
        done = store.get_action(rkey)
        action = "cached" if done else "upload" if digest in needed else "unused"
        rows.append({"digest": digest, "path": path, "remote_key": rkey, "action": action,
                     "logo_id": done.outputs.get("logo_id") if done else None})  # fmt: skip
    return rows


def logo_task(ctx: BuildContext, client, work: Work, row: dict, logo_ids: dict[str, str]) -> None:
    """Add the upload of logo ``row`` (a :func:`logo_rows` row); its commit records the
    ``logo_id`` and puts it in ``logo_ids`` for the tasks that wait for it."""
    from ..platform import upload_logo

    path = os.path.join(ctx.graph.root, *row["path"].split("/"))

    async def run():
        return await upload_logo(client, path)

    def commit(logo_id: str) -> None:
        logo_ids[row["digest"]] = logo_id
        outputs = {"logo_id": logo_id, "path": row["path"]}
        ctx.store.put_action(row["remote_key"], ActionResult(
            kind="logo-chutes", outputs=outputs, created=time.time()))  # fmt: skip
        row.update(logo_id=logo_id, state="uploaded")

    work.add(logo_key(row["digest"]), f"upload logo {row['path']}", run, commit)
