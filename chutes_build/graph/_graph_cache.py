"""The compiled-graph cache: a warm run does not compile its graph again.

Compiling is a pure function of the evaluated snapshots, the workspace's
``base-images`` and ignore patterns, the chutes-build version, and what the
compiler reads from disk: the ``add()`` selections (:func:`select_files`) and
the digest and mode of each file it hashes (``FileDigests.get``). While the
graph is compiled, both are recorded (a verifying trace, as build systems
with constructive traces keep one); the graph is stored with its key and the
trace. A later run with the same key replays the trace (each selection is
made again, through the selection cache; each file's digest is read again,
through the stat cache) and reuses the stored nodes only when every answer is
the same. A graph that compiled with errors is never stored: its errors are
reported on every run, and neither is one compiled in a run that imported chute
files: that run paid far more than compiling, and storing the graph (several
megabytes for thousands of chutes) would raise its peak memory for nothing that
the next run, which stores it, does not also do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import xxhash

from ..cache import FileDigest, FileDigests, Store, scope_id
from ..core import __version__
from ..definitions import SelectionCache, using_selections
from ._graph import BuildGraph
from ._nodes import NodeKind

__all__ = ["cached_compile"]

#: 2: typed nodes, stored in their tagged plain form; 3: runtime and logo nodes;
#: 4: decoded as their kinds
_FORMAT = 4
_ENCODE = msgspec.msgpack.Encoder()


class _Read(msgspec.Struct, frozen=True, array_like=True):
    rel: str
    digest: str
    mode: int


class _Selection(msgspec.Struct, frozen=True, array_like=True):
    arguments: tuple[str, str, str, tuple[str, ...], tuple[str, ...]]
    selected: list[str]
    escaping: list[str]


class _Compiled(msgspec.Struct, array_like=True):
    version: int
    key: str
    reads: list[_Read]
    selections: list[_Selection]
    nodes: list[NodeKind]  # in the graph's insertion order, decoded straight into their kinds


class _RecordingDigests:
    """A ``FileDigests`` that remembers every digest it handed out."""

    def __init__(self, digests: FileDigests) -> None:
        self.digests, self.root = digests, digests.root
        self.reads: dict[str, FileDigest] = {}

    def get(self, rel: str) -> FileDigest:
        found = self.digests.get(rel)
        self.reads[rel] = found
        return found


def graph_key(snapshots: list, root: str, base_images: dict[str, str], ignore) -> str:
    """The key of the graph that ``snapshots`` compile into under these settings."""
    hasher = xxhash.xxh3_128()
    head = (_FORMAT, __version__, root, sorted(base_images.items()), list(ignore))
    hasher.update(_ENCODE.encode(head))
    hasher.update(_ENCODE.encode(snapshots))
    return hasher.hexdigest()


def _holds(entry: _Compiled, digests: FileDigests, selections: SelectionCache) -> bool:
    """True when every selection and every file digest the graph was compiled from is unchanged."""
    for made in entry.selections:
        if selections.select(*made.arguments) != (made.selected, made.escaping):
            return False
    for read in entry.reads:
        try:
            found = digests.get(read.rel)
        except OSError:
            return False
        if found.digest != read.digest or found.mode != read.mode:
            return False
    return True


def _graph_of(root: str, nodes: list[NodeKind]) -> BuildGraph:
    graph = BuildGraph(root)
    graph._nodes = {node.key: node for node in nodes}
    return graph


def cached_compile(
    store: Store,
    snapshots: list,
    digests: FileDigests,
    selections: SelectionCache,
    compile_fn: Callable[[Any], BuildGraph],
    base_images: dict[str, str],
    ignore: tuple[str, ...],
    remember: bool = True,
) -> BuildGraph:
    """``compile_fn(digests)``'s graph, from ``store`` when its key and trace still hold
    (then ``graph.from_cache`` is true). A graph compiled afresh is stored when
    ``remember`` is true.

    ``compile_fn`` compiles ``snapshots`` with the digests it is given (and
    ``base_images``, ``ignore``); ``selections`` answers every ``select_files``.
    """
    scope = scope_id(digests.root)
    key = graph_key(snapshots, digests.root, base_images, ignore)
    with using_selections(selections):
        saved = store.load_struct("compiled", scope, _Compiled)
        fresh = saved is not None and saved.version == _FORMAT and saved.key == key
        if fresh and _holds(saved, digests, selections):
            graph = _graph_of(digests.root, saved.nodes)
            graph.from_cache = True
            return graph
        recording, selections.calls = _RecordingDigests(digests), []
        try:
            graph = compile_fn(recording)
            calls = selections.calls
        finally:
            selections.calls = None
    graph.from_cache = False
    if remember and not graph.errors:
        reads = [_Read(rel, d.digest, d.mode) for rel, d in sorted(recording.reads.items())]
        made = [_Selection(args, selected, escaping) for args, selected, escaping in calls]
        nodes = [node for _, node in graph.items()]
        record = _Compiled(_FORMAT, key, reads, made, nodes)
        store.save_struct("compiled", scope, record)
    return graph
