"""The local cache: content-addressed blobs, action results, and cached records.

``DiskStore`` keeps entries in a folder (see ``_disk.py`` for the layout);
``MemoryStore`` has the same interface for tests. ``FileDigests`` hashes
workspace files with a stat cache kept in the store. This package imports
neither the graph nor the definitions.

The shared cache's names (``RemoteCache``, ``pull``, ``push``...) are imported
on first use: they bring httpx and trio, which a warm ``plan`` never needs.
"""

import importlib

from ._action_index import verified_actions
from ._atomic import free_space, human_size
from ._digests import (
    RACY_NS,
    FileDigest,
    FileDigests,
    NotRegularFile,
    copy_hashed,
    file_kind,
    hash_file,
    open_regular,
    scope_id,
)
from ._disk import DiskStore, default_cache_dir
from ._memory import MemoryStore
from ._store import (
    ACTION_VERSION,
    ActionResult,
    BadEntry,
    CacheStats,
    Entry,
    GcResult,
    Store,
    blob_digest,
    parse_age,
    parse_size,
)

#: Names imported on first use, and their modules.
_LAZY = {
    "RemoteCache": "_http",
    "RemoteCacheStats": "_http",
    "remote_cache_from_env": "_http",
    "RecordingStore": "_shared",
    "SharedStats": "_shared",
    "pull": "_shared",
    "push": "_shared",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ACTION_VERSION",
    "RACY_NS",
    "ActionResult",
    "BadEntry",
    "CacheStats",
    "DiskStore",
    "Entry",
    "FileDigest",
    "FileDigests",
    "GcResult",
    "MemoryStore",
    "NotRegularFile",
    "RecordingStore",
    "RemoteCache",
    "RemoteCacheStats",
    "SharedStats",
    "Store",
    "blob_digest",
    "copy_hashed",
    "default_cache_dir",
    "file_kind",
    "free_space",
    "hash_file",
    "human_size",
    "open_regular",
    "parse_age",
    "parse_size",
    "pull",
    "push",
    "remote_cache_from_env",
    "scope_id",
    "verified_actions",
]
