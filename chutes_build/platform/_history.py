"""Deploy history of the chutes target, and rollback to a recorded deploy.

Each deploy that ``up --target chutes`` makes is recorded in the local cache as
plain data (a :class:`Deploy` per entry, newest last) under the API URL and the
chute's name, and under its platform id: the deploy node's key, the image it
ran (reference and platform id), the code's digest, when, who, and the exact
body that was posted (a CAS blob). Rollback posts a recorded body again: the
image it names was built on the platform then, so nothing is rebuilt and no
image is uploaded.

The store is any object with ``load_struct``/``save_struct``/``put_blob``/
``get_blob`` (the cache's stores); this module does not import the cache.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import time
from typing import Any

import msgspec

from ._client import ChutesClient
from ._errors import PlatformError, PlatformNotFound

__all__ = ["Deploy", "History", "find_deploy", "load_history", "record_deploy", "rollback"]

NAMESPACE = "deploy-history"
KEEP = 50


class Deploy(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded deploy of a chute."""

    key: str
    chute: str
    chute_id: str
    version: str
    image: str
    image_id: str
    code_digest: str
    time: float
    who: str
    body: str
    #: the action-cache key of this deploy for the chutes target (marked superseded on rollback)
    remote_key: str = ""
    rollback_of: str | None = None


class History(msgspec.Struct, frozen=True, kw_only=True):
    version: int = 1
    deploys: tuple[Deploy, ...] = ()


def _name(api_url: str, ref: str) -> str:
    return hashlib.sha256(f"{api_url.rstrip('/')}\0{ref}".encode()).hexdigest()[:40]


def load_history(store: Any, api_url: str, chute: str) -> History:
    """The recorded deploys of ``chute`` (a name or a platform id), oldest first."""
    found = store.load_struct(NAMESPACE, _name(api_url, chute), History)
    return found if found is not None else History()


def who(username: str | None) -> str:
    try:
        local = getpass.getuser()
    except (KeyError, OSError):
        local = "?"
    return f"{username or '?'} ({local})"


def record_deploy(
    store: Any,
    api_url: str,
    *,
    key: str,
    body: dict,
    response: dict,
    image: str,
    username: str | None,
    remote_key: str = "",
    rollback_of: str | None = None,
) -> Deploy:
    """Append one deploy to the chute's history (under its name and its id)."""
    entry = Deploy(
        key=key,
        chute=str(body["name"]),
        chute_id=str(response.get("chute_id")),
        version=str(response.get("version")),
        image=image,
        image_id=str(body.get("image")),
        code_digest=hashlib.sha256(str(body.get("code", "")).encode()).hexdigest(),
        time=time.time(),
        who=who(username),
        remote_key=remote_key,
        rollback_of=rollback_of,
        body=store.put_blob(json.dumps(body, sort_keys=True).encode()),
    )
    for ref in (entry.chute, entry.chute_id):
        past = load_history(store, api_url, ref).deploys
        store.save_struct(NAMESPACE, _name(api_url, ref), History(deploys=(*past, entry)[-KEEP:]))
    return entry


def find_deploy(history: History, chute: str, to: str | None) -> Deploy:
    """The deploy ``--to`` names (a key or version prefix), else the one before the latest."""
    deploys = history.deploys
    if not deploys:
        raise PlatformNotFound(
            f"no deploy of chute {chute!r} is recorded in this cache",
            fix="deploy it with `chutes-build up --target chutes` first (history is per cache)",
        )
    if to:
        matches = [d for d in deploys if d.key.startswith(to) or d.version.startswith(to)]
        if not matches:
            raise PlatformNotFound(
                f"chute {chute!r} has no recorded deploy {to!r}",
                fix=f"see `chutes-build history {chute}`",
            )
        return matches[-1]
    current = deploys[-1].version
    older = [d for d in deploys if d.version != current]
    if not older:
        raise PlatformError(
            f"chute {chute!r} has only one recorded version ({current})",
            fix="nothing to roll back to",
        )
    return older[-1]


async def rollback(
    client: ChutesClient, store: Any, api_url: str, entry: Deploy, accept_fee: bool = False
) -> dict:
    """Post ``entry``'s recorded body again; ``{"state": "rolled back"|"unchanged", ...}``."""
    blob = store.get_blob(entry.body)
    if blob is None:
        raise PlatformError(
            f"the recorded body of deploy {entry.key[:12]} is gone from the cache",
            fix="redeploy that version from its source with `up`",
        )
    body = json.loads(blob)
    image = await client.get_image(entry.image_id, missing_ok=True)
    if image is None:
        raise PlatformNotFound(
            f"image {entry.image} ({entry.image_id}) of that deploy no longer exists on the "
            "platform",
            status=404,
            fix="rebuild it: check out that version and run `up`",
        )
    live = await client.get_chute(entry.chute_id, missing_ok=True)
    if live is not None and str(live.get("version")) == entry.version:
        return {
            "state": "unchanged",
            "chute": entry.chute,
            "chute_id": entry.chute_id,
            "version": entry.version,
            "key": entry.key,
        }
    response = await client.deploy_chute(body, accept_fee=accept_fee)
    record_deploy(
        store,
        api_url,
        key=entry.key,
        body=body,
        response=response,
        image=entry.image,
        username=client.settings.username,
        remote_key=entry.remote_key,
        rollback_of=entry.version,
    )
    return {
        "state": "rolled back",
        "chute": entry.chute,
        "chute_id": str(response.get("chute_id")),
        "version": str(response.get("version")),
        "key": entry.key,
    }
