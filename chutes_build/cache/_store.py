"""The store interface shared by the disk and in-memory stores, and its value types.

Three areas, one interface:

- ``cas``: blobs addressed by the xxh3-128 digest of their bytes;
- ``ac``: action results (:class:`ActionResult`) addressed by a graph node's key;
- ``records``: named, versioned records (the stat cache, the evaluation cache,
  the last recorded graph), addressed by ``(namespace, name)``.

Reads verify what they read; a bad entry is a miss plus a log line.
Every read and write goes through the subclass's five primitives, so the
two stores behave alike and one test suite runs over both.
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from typing import Any

import msgspec
import xxhash

from ..core import CacheError
from ._atomic import open_envelope, seal

__all__ = [
    "ACTION_VERSION",
    "AREAS",
    "ActionResult",
    "BadEntry",
    "CacheStats",
    "Entry",
    "GcResult",
    "Store",
    "blob_digest",
    "parse_age",
    "parse_size",
]

log = logging.getLogger("chutes_build.cache")

AREAS = ("ac", "cas", "records")
_COUNTERS = ("ac_hit", "ac_miss", "cas_hit", "cas_miss", "eval_hit", "eval_miss")
_KEY_RE = re.compile(r"^[0-9a-f]{8,64}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def blob_digest(data: bytes) -> str:
    """The CAS address of ``data``."""
    return xxhash.xxh3_128_hexdigest(data)


class ActionResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a finished node produced, stored under the node's key.

    ``outputs`` holds what later steps need (an image id, a tag, a deployed
    chute id); ``logs`` names CAS blobs. ``version`` is this struct's format.
    """

    kind: str
    outputs: dict[str, str] = {}
    logs: tuple[str, ...] = ()
    created: float = 0.0
    duration: float = 0.0
    version: int = 1


#: The :class:`ActionResult` format this code reads and writes.
ACTION_VERSION = 1


class Entry(msgspec.Struct, frozen=True):
    area: str
    name: str
    size: int
    last_used: float


class CacheStats(msgspec.Struct, kw_only=True):
    location: str
    entries: dict[str, int]
    bytes: dict[str, int]
    counters: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())

    def hit_rate(self, what: str) -> float | None:
        hits, misses = self.counters.get(f"{what}_hit", 0), self.counters.get(f"{what}_miss", 0)
        return hits / (hits + misses) if hits + misses else None


class GcResult(msgspec.Struct, kw_only=True):
    removed: int
    freed: int
    kept: int
    kept_bytes: int


_ACTION_DECODER = msgspec.msgpack.Decoder(ActionResult)
_ENCODER = msgspec.msgpack.Encoder()


class BadEntry(Exception):
    """An entry's name holds something that is not a readable file; the message says what."""


def _decode_action(payload: bytes) -> tuple[ActionResult | None, str]:
    try:
        result = _ACTION_DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return None, f"undecodable action result ({exc})"
    if result.version != ACTION_VERSION:
        return None, f"has format {result.version}, expected {ACTION_VERSION}"
    return result, ""


class Store(ABC):
    """A content-addressed store plus action cache; see the module docstring."""

    location: str = ""

    def __init__(self) -> None:
        self._counters = dict.fromkeys(_COUNTERS, 0)

    # -- primitives each store implements ------------------------------------------------

    @abstractmethod
    def _read(self, area: str, name: str) -> bytes | None: ...

    @abstractmethod
    def _write(self, area: str, name: str, data: bytes, durable: bool = True) -> None: ...

    @abstractmethod
    def _exists(self, area: str, name: str) -> bool: ...

    @abstractmethod
    def _remove(self, area: str, name: str) -> int: ...

    @abstractmethod
    def entries(self) -> list[Entry]:
        """Every entry, with its size and the time it was last used."""

    @abstractmethod
    def _saved_counters(self) -> dict[str, int]: ...

    @abstractmethod
    def flush_stats(self) -> None:
        """Persist this process's hit and miss counts (the disk store appends them)."""

    def _stamps(self, area: str, names: list[str]) -> list[tuple[int, ...] | None]:
        """For each entry, what changes whenever it does: ``()`` when there is no entry,
        ``None`` when this store cannot tell; see ``_action_index.py``."""
        return [None] * len(names)

    def _settled(self, stamp: tuple[int, ...], racy_ns: int) -> bool:
        """True when an entry of ``stamp`` was last modified ``racy_ns`` or more ago."""
        return False

    # -- CAS -------------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        digest = blob_digest(data)
        if not self._exists("cas", digest):
            self._write("cas", digest, data)
        return digest

    def get_blob(self, digest: str) -> bytes | None:
        data, why = self._load("cas", _check_key(digest))
        if data is not None and blob_digest(data) != digest:
            data, why = None, "corrupt (digest mismatch)"
        if why:
            log.warning("cache: blob %s is %s; treated as a miss", digest, why)
        self.count("cas", data is not None)
        return data

    def has_blob(self, digest: str) -> bool:
        return self._exists("cas", _check_key(digest))

    # -- action cache ------------------------------------------------------------------------

    def put_action(self, key: str, result: ActionResult) -> None:
        """Record ``result`` for ``key``; call only once the action fully succeeded."""
        self._write("ac", _check_key(key), seal(_ENCODER.encode(result)))

    def get_action(self, key: str) -> ActionResult | None:
        """The verified result for ``key``, or ``None`` (a damaged entry is also logged)."""
        result, why = self.read_action(key)
        if why:
            log.warning("cache: action result %s is unusable (%s); treated as a miss", key, why)
        self.count("ac", result is not None)
        return result

    def read_action(self, key: str, touch: bool = True) -> tuple[ActionResult | None, str]:
        """``(result, "")``, ``(None, "")`` for no entry, or ``(None, why)`` for an entry
        that fails verification: the one read path of lookups, ``plan`` and ``verify``."""
        data, why = self._load("ac", _check_key(key), touch)
        if data is None:
            return None, why
        payload, why = open_envelope(data)
        if payload is None:
            return None, why
        return _decode_action(payload)

    def has_action(self, key: str) -> bool:
        """True when an action result exists for ``key`` (cheap; does not verify it)."""
        found = self._exists("ac", _check_key(key))
        self.count("ac", found)
        return found

    # -- records -------------------------------------------------------------------------------

    def put_record(self, namespace: str, name: str, payload: bytes, durable: bool = True) -> None:
        self._write("records", _record(namespace, name), seal(payload), durable)

    def get_record(self, namespace: str, name: str) -> bytes | None:
        return self._open("records", _record(namespace, name))

    def load_struct(self, namespace: str, name: str, type_: type) -> Any:
        """Decode a record into ``type_``; an unreadable or outdated record is ``None``."""
        payload = self.get_record(namespace, name)
        if payload is None:
            return None
        try:
            return msgspec.msgpack.decode(payload, type=type_)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning(
                "cache: record %s/%s is outdated or unreadable (%s); ignored", namespace, name, exc
            )
            return None

    def save_struct(self, namespace: str, name: str, value: Any) -> None:
        self.put_record(namespace, name, _ENCODER.encode(value))

    # -- bookkeeping ------------------------------------------------------------------------------

    def count(self, what: str, hit: bool) -> None:
        self._counters[f"{what}_{'hit' if hit else 'miss'}"] += 1

    def stats(self) -> CacheStats:
        entries, sizes = dict.fromkeys(AREAS, 0), dict.fromkeys(AREAS, 0)
        for entry in self.entries():
            entries[entry.area] += 1
            sizes[entry.area] += entry.size
        counters = self._saved_counters()
        for name, value in self._counters.items():
            counters[name] = counters.get(name, 0) + value
        return CacheStats(location=self.location, entries=entries, bytes=sizes, counters=counters)

    def gc(
        self, max_size: int | None = None, older_than: float | None = None, now: float | None = None
    ) -> GcResult:
        """Evict entries unused for ``older_than`` seconds, then least recently used ones
        until the store holds at most ``max_size`` bytes."""
        now = time.time() if now is None else now
        entries = sorted(self.entries(), key=lambda e: e.last_used)
        total = sum(e.size for e in entries)
        removed = freed = 0
        for entry in entries:
            stale = older_than is not None and now - entry.last_used > older_than
            if not stale and (max_size is None or total <= max_size):
                continue
            gone = self._remove(entry.area, entry.name)
            removed, freed, total = removed + 1, freed + gone, total - gone
        return GcResult(removed=removed, freed=freed, kept=len(entries) - removed, kept_bytes=total)

    def verify(self) -> list[tuple[str, str, str]]:
        """Read every entry back through the checks a lookup makes; ``(area, name, why)``
        of each one that fails them (a lookup would treat it as a miss)."""
        bad = []
        for entry in self.entries():
            if entry.area == "ac" and _KEY_RE.match(entry.name):
                _, why = self.read_action(entry.name, touch=False)
            else:
                why = self._verify_entry(entry)
            if why:
                bad.append((entry.area, entry.name, why))
        return bad

    def _verify_entry(self, entry: Entry) -> str:
        data, why = self._load(entry.area, entry.name, touch=False)
        if data is None:  # not a file, or removed meanwhile (gc, another process)
            return why
        if entry.area == "cas":
            return "" if blob_digest(data) == entry.name else "digest mismatch"
        if entry.area == "ac":
            return "not named by a key"
        return open_envelope(data)[1]

    def _peek(self, area: str, name: str) -> bytes | None:
        """Read an entry without counting it as a use (the disk store keeps its mtime)."""
        return self._read(area, name)

    def _load(self, area: str, name: str, touch: bool = True) -> tuple[bytes | None, str]:
        """``(bytes, "")``, ``(None, "")`` when absent, ``(None, why)`` when the entry is
        not a readable file (a directory, a FIFO, a device: :class:`BadEntry`)."""
        try:
            return (self._read(area, name) if touch else self._peek(area, name)), ""
        except BadEntry as exc:
            return None, str(exc)

    def _open(self, area: str, name: str) -> bytes | None:
        data, why = self._load(area, name)
        payload = None
        if data is not None:
            payload, why = open_envelope(data)
        if why:
            log.warning("cache: %s entry %s is unusable (%s); treated as a miss", area, name, why)
        return payload

    def close(self) -> None:
        self.flush_stats()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise CacheError(f"invalid cache key {key!r}", fix="keys are lowercase hex digests")
    return key


def _record(namespace: str, name: str) -> str:
    for part in (namespace, name):
        if not _NAME_RE.match(part):
            raise CacheError(
                f"invalid record name {namespace!r}/{name!r}",
                fix="use letters, digits, '.', '_' or '-'",
            )
    return f"{namespace}/{name}"


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
    "t": 1 << 40,
    "tb": 1 << 40,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
_AGES = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(text: str) -> int:
    """``"500MB"`` -> bytes (binary multiples: 1 KB = 1024 bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text or "")
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS:
        raise CacheError(f"invalid size {text!r}", fix="use e.g. 500MB, 10GB or 1048576")
    return int(float(match.group(1)) * _UNITS[unit])


def parse_age(text: str) -> float:
    """``"7d"`` -> seconds (units s, m, h, d, w)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text or "")
    if not match:
        raise CacheError(f"invalid age {text!r}", fix="use e.g. 30m, 12h, 7d or 2w")
    return float(match.group(1)) * _AGES[match.group(2) or "s"]
