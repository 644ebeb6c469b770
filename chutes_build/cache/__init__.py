"""The local cache: content-addressed blobs, action results, and cached records.

``DiskStore`` keeps entries in a folder (see ``_disk.py`` for the layout);
``MemoryStore`` has the same interface for tests. ``FileDigests`` hashes
workspace files with a stat cache kept in the store. This package imports
neither the graph nor the definitions.
"""

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
from ._http import RemoteCache, RemoteCacheStats, remote_cache_from_env
from ._memory import MemoryStore
from ._shared import RecordingStore, SharedStats, pull, push
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
]
