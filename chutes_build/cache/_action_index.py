"""Which action results read back verified, without reading each one again.

A warm ``plan`` asks about every node of its graph (20,000 at 5,000 chutes), and
reading and verifying each entry costs a third of such a run. After a batched
check, one record per workspace (``acindex/<scope>``) keeps, for each key whose
result read back verified, the *stamp* of its entry: on disk its inode, size,
mtime and ctime. The next check reads an entry again only when its stamp moved:
every write through a store renames a new file into place (a new inode), and
anything written in place moves the mtime and ctime. An entry modified within
:data:`RACY_NS` of being verified is not remembered (a change in the same clock
tick could leave its mtime as it was), as the stat cache does for files. A
damaged or outdated index is a miss: every entry is read. A store that cannot
stamp its entries is read entry by entry, as before.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ._digests import RACY_NS

__all__ = ["verified_actions"]

_VERSION = 1
_NAMESPACE = "acindex"


class _Index(msgspec.Struct, array_like=True):
    version: int
    stamps: dict[str, tuple[int, ...]]


def _load(store, scope: str) -> dict[str, tuple[int, ...]]:
    saved = store.load_struct(_NAMESPACE, scope, _Index)
    if saved is None or saved.version != _VERSION:
        return {}
    return saved.stamps


def _read(store, key: str, stamp: tuple[int, ...] | None) -> tuple[bool, tuple[int, ...] | None]:
    """``(verified, stamp to remember)`` of an entry read and verified. ``stamp`` was
    taken before the read, so a file replaced meanwhile is read again next time."""
    verified = store.read_action(key, touch=False)[0] is not None
    settled = stamp is not None and verified and store._settled(stamp, RACY_NS)
    return verified, stamp if settled else None


def _stamps(store, keys: list[str]) -> list:
    if hasattr(store, "_stamps"):
        return store._stamps("ac", keys)
    return [None] * len(keys)


def verified_actions(store, keys: Iterable[str], scope: str) -> set[str]:
    """The keys among ``keys`` whose action result is in ``store`` and reads back
    verified (as ``store.read_action`` reads it), in one batch: through the index of
    workspace ``scope`` (see :func:`scope_id`), which is then brought up to date with
    ``store.put_record`` (a store that drops writes, as a dry run's, keeps it as it was)."""
    keys = list(keys)
    index = _load(store, scope)
    verified, stamps = set(), {}
    for key, stamp in zip(keys, _stamps(store, keys), strict=True):
        if stamp == ():  # no entry: nothing to read (the plan says why it is dirty)
            continue
        if stamp is not None and stamp == index.get(key):
            ok = True
        else:
            ok, stamp = _read(store, key, stamp)
        if ok:
            verified.add(key)
        if stamp is not None:
            stamps[key] = stamp
    if _dropped(index, stamps) or any(index.get(key) != stamp for key, stamp in stamps.items()):
        store.put_record(
            _NAMESPACE, scope, msgspec.msgpack.encode(_Index(_VERSION, stamps)), durable=False
        )
    return verified


def _dropped(index: dict, stamps: dict) -> bool:
    """True when the index remembers keys this check did not confirm (removed, damaged,
    or of nodes no longer asked about): it is written again without them."""
    return len(index) != len(stamps)
