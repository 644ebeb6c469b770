"""An in-memory :class:`Store` for unit tests: the same interface, no files.

Entries are bytes in dicts; "last used" is a logical clock advanced by each
read and write, so LRU eviction is deterministic in tests.
"""

from __future__ import annotations

import xxhash

from ._store import _COUNTERS, Entry, Store

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    location = ":memory:"

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], bytes] = {}
        self.used: dict[tuple[str, str], float] = {}
        self.clock = 0.0
        self._flushed = dict.fromkeys(_COUNTERS, 0)

    def _tick(self, slot: tuple[str, str]) -> None:
        self.clock += 1.0
        self.used[slot] = self.clock

    def _read(self, area: str, name: str) -> bytes | None:
        data = self.data.get((area, name))
        if data is not None:
            self._tick((area, name))
        return data

    def _write(self, area: str, name: str, data: bytes, durable: bool = True) -> None:
        self.data[(area, name)] = bytes(data)
        self._tick((area, name))

    def _stamps(self, area: str, names: list[str]) -> list[tuple[int, ...] | None]:
        """A digest of each entry's bytes: a test that edits ``data`` in place changes it."""
        found = [self.data.get((area, name)) for name in names]
        return [() if d is None else (xxhash.xxh3_64_intdigest(d), len(d)) for d in found]

    def _settled(self, stamp: tuple[int, ...], racy_ns: int) -> bool:
        return True

    def _exists(self, area: str, name: str) -> bool:
        return (area, name) in self.data

    def _remove(self, area: str, name: str) -> int:
        self.used.pop((area, name), None)
        data = self.data.pop((area, name), None)
        return len(data) if data is not None else 0

    def entries(self) -> list[Entry]:
        return [
            Entry(area, name, len(data), self.used[(area, name)])
            for (area, name), data in self.data.items()
        ]

    def _saved_counters(self) -> dict[str, int]:
        return dict(self._flushed)

    def flush_stats(self) -> None:
        for name, value in self._counters.items():
            self._flushed[name] += value
        self._counters = dict.fromkeys(_COUNTERS, 0)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self.data)} entries)"
