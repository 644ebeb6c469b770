"""The team's shared cache around the local store: read-through, then write-behind.

Before a run plans, :func:`pull` asks the remote cache (a
:class:`~chutes_build.platform.RemoteCache`: Bazel HTTP protocol, entries sealed
with the team key) for the action results the plan will read and the local store
lacks, and copies the ones it gets into the local store; after the run,
:func:`push` writes the results this run committed. Both are best effort: the
remote client reports an outage, an HTTP error or an entry that fails its MAC as
a miss, so a broken cache server slows a build down and never fails it.

Results that describe this machine only (``deploy-local``: a container here) are
never shared. For the chutes target the shared entries are what let a teammate
skip work: the platform's image ids and deploy records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec
import trio

from ._store import ACTION_VERSION, ActionResult, Store

__all__ = ["LOCAL_ONLY", "RecordingStore", "SharedStats", "pull", "push"]

log = logging.getLogger("chutes_build.shared_cache")
LOCAL_ONLY = frozenset({"deploy-local", "base"})
_ENCODE = msgspec.msgpack.Encoder(order="deterministic")
_DECODE = msgspec.msgpack.Decoder(ActionResult)


@dataclass
class SharedStats:
    pulled: int = 0
    pushed: int = 0
    keys: list[str] = field(default_factory=list)


class RecordingStore:
    """A store that remembers the action keys written through it (to push them later)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.written: list[str] = []

    def put_action(self, key: str, result: ActionResult) -> None:
        self._store.put_action(key, result)
        self.written.append(key)

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def __enter__(self):
        self._store.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._store.__exit__(*exc)


def _decode(key: str, payload: bytes) -> ActionResult | None:
    try:
        result = _DECODE.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("remote cache: entry %s is unreadable (%s); ignored", key, exc)
        return None
    if result.version != ACTION_VERSION or result.kind in LOCAL_ONLY:
        return None
    return result


async def pull(remote, store: Store, keys: Iterable[str], *, limit: int = 16) -> SharedStats:
    """Copy the results of ``keys`` missing locally from ``remote`` into ``store``."""
    stats = SharedStats()
    wanted = [k for k in dict.fromkeys(keys) if not store.has_action(k)]
    if remote is None or not wanted:
        return stats
    limiter = trio.CapacityLimiter(limit)

    async def one(key: str) -> None:
        async with limiter:
            payload = await remote.get_action(key)
        result = _decode(key, payload) if payload is not None else None
        if result is not None:
            store.put_action(key, result)
            stats.pulled += 1
            stats.keys.append(key)

    async with trio.open_nursery() as nursery:
        for key in wanted:
            nursery.start_soon(one, key)
    return stats


async def push(remote, store: Store, keys: Iterable[str], *, limit: int = 16) -> SharedStats:
    """Write the local results of ``keys`` (and their log blobs) to ``remote``."""
    stats = SharedStats()
    if remote is None:
        return stats
    limiter = trio.CapacityLimiter(limit)

    async def one(key: str) -> None:
        result = store.get_action(key)
        if result is None or result.kind in LOCAL_ONLY:
            return
        async with limiter:
            if await remote.put_action(key, _ENCODE.encode(result)):
                stats.pushed += 1
                stats.keys.append(key)
            for digest in result.logs:
                data = store.get_blob(digest)
                if data is not None:
                    await remote.put_blob(digest, data)

    async with trio.open_nursery() as nursery:
        for key in dict.fromkeys(keys):
            nursery.start_soon(one, key)
    return stats
