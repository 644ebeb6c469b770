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

import logging
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

log = logging.getLogger("chutes_build.cache")

#: 2: typed nodes, stored in their tagged plain form; 3: runtime and logo nodes;
#: 4: decoded as their kinds, each ``files`` value once, the inputs made from a
#: layer's files left out
#: 5: a runtime node is labelled "on <image>"
_FORMAT = 5
_ENCODE = msgspec.msgpack.Encoder()
_NO_FILES = -1


class _Read(msgspec.Struct, frozen=True, array_like=True):
    rel: str
    digest: str
    mode: int


class _Selection(msgspec.Struct, frozen=True, array_like=True):
    arguments: tuple[str, str, str, tuple[str, ...], tuple[str, ...]]
    selected: list[str]
    escaping: list[str]


class _Head(msgspec.Struct, array_like=True):
    """The start of a stored graph: enough to tell whether the rest is worth decoding."""

    version: int
    key: str


class _Compiled(msgspec.Struct, array_like=True):
    version: int
    key: str
    reads: list[_Read]
    selections: list[_Selection]
    #: each distinct ``files`` value (the files of an ``add()`` that many chutes share), once
    files: list[tuple[dict[str, Any], ...]]
    #: per node, the index of its ``files`` in ``files`` (``_NO_FILES``: it has none)
    refs: list[int]
    #: per node, whether its ``file:`` inputs were left out, to be made from its files
    derived: list[bool]
    nodes: list[NodeKind]  # in the graph's insertion order, stored without their ``files``


_HEAD = msgspec.msgpack.Decoder(_Head)
_COMPILED = msgspec.msgpack.Decoder(_Compiled)


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


def _file_inputs(files: tuple[dict[str, Any], ...]) -> dict[str, str] | None:
    """The ``file:<path>`` inputs a layer with ``files`` has (``None``: not of that form)."""
    try:
        return {f"file:{f['path']}": f"{f['digest']}:{f['mode']:o}" for f in files}
    except (KeyError, TypeError, ValueError):
        return None


def _own_inputs(node: NodeKind, files: tuple) -> dict[str, str] | None:
    """``node``'s inputs less those :func:`_file_inputs` makes again from its ``files``
    (``None`` when they are not exactly those, last, in order: then all are stored)."""
    inputs, derived = getattr(node, "inputs", None), _file_inputs(files)
    if not isinstance(inputs, dict) or not derived or len(derived) > len(inputs):
        return None
    items = list(inputs.items())
    own = dict(items[: len(items) - len(derived)])
    if own.keys() & derived.keys() or items[len(own) :] != list(derived.items()):
        return None
    return own


def _pack(graph: BuildGraph) -> tuple[list, list[int], list[bool], list[NodeKind]]:
    """``(files, refs, derived, nodes)`` of a :class:`_Compiled`: each ``files`` value
    stored once, and the inputs a node's files make again left out."""
    files: list = []
    index: dict[bytes, int] = {}
    refs, derived, nodes = [], [], []
    for _, node in graph.items():
        found = getattr(node, "files", ())
        own = _own_inputs(node, found) if found else None
        refs.append(index.setdefault(_ENCODE.encode(found), len(index)) if found else _NO_FILES)
        derived.append(own is not None)
        if found and refs[-1] == len(files):
            files.append(found)
        if found:
            trimmed = {} if own is None else {"inputs": own}
            node = msgspec.structs.replace(node, files=(), **trimmed)
        nodes.append(node)
    return files, refs, derived, nodes


def _graph_of(root: str, saved: _Compiled) -> BuildGraph | None:
    """The stored graph, its nodes' ``files`` (and the inputs they make) put back
    (``None`` when the record is not one this code wrote: a miss)."""
    count, refs = len(saved.nodes), saved.refs
    if {len(refs), len(saved.derived)} != {count} or max(refs, default=0) >= len(saved.files):
        return None
    made = [_file_inputs(files) or {} for files in saved.files]
    graph = BuildGraph(root)
    nodes = graph._nodes
    for node, ref, derived in zip(saved.nodes, refs, saved.derived, strict=True):
        if ref != _NO_FILES:
            extra = {"inputs": {**node.inputs, **made[ref]}} if derived else {}
            node = msgspec.structs.replace(node, files=saved.files[ref], **extra)
        nodes[node.key] = node
    return graph


def _load(store: Store, scope: str, key: str) -> _Compiled | None:
    """The stored graph of ``key``; the rest of a record of another key is not decoded."""
    payload = store.get_record("compiled", scope)
    if payload is None:
        return None
    try:
        head = _HEAD.decode(payload)
        if head.version != _FORMAT or head.key != key:
            return None
        return _COMPILED.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("cache: record compiled/%s is outdated or unreadable (%s); ignored", scope, exc)
        return None


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
        saved = _load(store, scope, key)
        holds = saved is not None and _holds(saved, digests, selections)
        graph = _graph_of(digests.root, saved) if holds else None
        if graph is not None:
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
        record = _Compiled(_FORMAT, key, reads, made, *_pack(graph))
        store.save_struct("compiled", scope, record)
    return graph
