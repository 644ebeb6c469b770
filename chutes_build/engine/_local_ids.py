"""Who a local chute container is, and whether the server on its port is that chute.

A container's name is a readable slug of the chute's name plus a short hash of its
exact ``username/name`` and the workspace: two chutes whose names differ only by
spaces, dashes, accents or script (``my chute``, ``my-chute``, ``café``, ``кафе``)
get different names, and a name never changes across runs. The name is for people
and for docker's uniqueness check only: containers are found by their labels
(workspace, slot, chute name, deploy key, runtime key, port), never by guessing names.

A container started by a version that did not label the slot is matched by its old
chute label (the slug it carried) when that is unambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import xxhash

from ..cache import scope_id

__all__ = [
    "LABEL_KEYS",
    "L_CHUTE",
    "L_DEPLOY",
    "L_PORT",
    "L_RUNTIME",
    "L_SLOT",
    "L_WORKSPACE",
    "chute_named",
    "container_name",
    "containers_by_slot",
    "identity_mismatch",
]

LABEL = "chutes-build"
L_WORKSPACE, L_CHUTE, L_SLOT = f"{LABEL}.workspace", f"{LABEL}.chute", f"{LABEL}.slot"
L_DEPLOY, L_RUNTIME, L_PORT = f"{LABEL}.deploy", f"{LABEL}.runtime", f"{LABEL}.port"
LABEL_KEYS = (L_WORKSPACE, L_SLOT, L_CHUTE, L_DEPLOY, L_RUNTIME, L_PORT)
_SLUG_MAX = 40


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_.-]+", "-", ascii_name.lower()).strip("-.")
    return slug[:_SLUG_MAX].rstrip("-.") or "chute"


def _legacy_slug(name: str) -> str:
    """The chute label older versions gave a container (not unique)."""
    return re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-.") or "chute"


def container_name(workspace_root: str, slot: str) -> str:
    """``chutes-build-<slug>-<hash>`` for the chute ``slot`` (``username/name``): stable,
    readable, and unique per chute and workspace."""
    name = slot.partition("/")[2] or slot
    digest = xxhash.xxh3_64_hexdigest(f"{scope_id(workspace_root)}\0{slot}".encode())[:10]
    return f"chutes-build-{_slug(name)}-{digest}"


def containers_by_slot(containers: Iterable[Any], slots: dict[str, str]) -> dict[str, list]:
    """``{slot: [containers]}`` of one workspace; ``slots`` maps each slot to its chute name.

    A container whose slot is not among ``slots`` is listed under its own slot label (or
    ``""`` when it has none and no legacy match): those are orphans."""
    legacy: dict[str, list[str]] = {}
    for slot, name in slots.items():
        legacy.setdefault(_legacy_slug(name), []).append(slot)
    found: dict[str, list] = {}
    for container in containers:
        slot = container.labels.get(L_SLOT)
        if not slot:
            matches = legacy.get(container.labels.get(L_CHUTE, ""), [])
            slot = matches[0] if len(matches) == 1 else ""
        found.setdefault(slot, []).append(container)
    return found


def chute_named(container: Any, names: Iterable[str]) -> bool:
    """Whether ``container`` runs one of the chutes called ``names`` (exact names; an
    older container's label is the name's slug)."""
    label, names = container.labels.get(L_CHUTE, ""), set(names)
    if container.labels.get(L_SLOT):
        return label in names
    return label in names or label in {_legacy_slug(name) for name in names}


def identity_mismatch(response: Any, chute: str, deploy_key: str) -> str | None:
    """Why the ``GET /_ping`` answer ``response`` is not chute ``chute`` started for
    ``deploy_key`` (another server holds the port), or ``None`` when it is."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("ok") is not True:
        return (
            f"HTTP {response.status_code} from a server that is not a chute: {response.text[:80]!r}"
        )
    if body.get("chute") == chute and body.get("deploy") == deploy_key:
        return None
    return (
        f"the port is answered by chute {body.get('chute')!r} (deploy key "
        f"{str(body.get('deploy'))[:12]}), not by this one"
    )
