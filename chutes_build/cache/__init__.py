"""The local cache: content-addressed blobs, action results, and cached records.

``DiskStore`` keeps entries in a folder (see ``_disk.py`` for the layout);
``MemoryStore`` has the same interface for tests. ``FileDigests`` hashes
workspace files with a stat cache kept in the store. This package imports
neither the graph nor the definitions.
"""

from ._digests import RACY_NS, FileDigest, FileDigests, hash_file, scope_id
from ._disk import DiskStore, default_cache_dir
from ._memory import MemoryStore
from ._store import (
    ACTION_VERSION,
    ActionResult,
    CacheStats,
    Entry,
    GcResult,
    Store,
    blob_digest,
    parse_age,
    parse_size,
)

__all__ = [
    "ACTION_VERSION",
    "RACY_NS",
    "ActionResult",
    "CacheStats",
    "DiskStore",
    "Entry",
    "FileDigest",
    "FileDigests",
    "GcResult",
    "MemoryStore",
    "Store",
    "blob_digest",
    "default_cache_dir",
    "hash_file",
    "parse_age",
    "parse_size",
    "scope_id",
]
