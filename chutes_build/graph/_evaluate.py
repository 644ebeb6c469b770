"""The evaluation cache: import a chute file only when it or a local module it imports changed.

The key of a file's evaluation is the digest of the file, the digests of the
workspace modules it imported last time, the chutes-build version and the
Python version. While that key holds, the cached :class:`FileSnapshot` stands
in for importing the file. Failed evaluations are never cached: they are
retried (and reported) on every run.

What the key cannot see: data files a chute file reads while it is imported,
environment variables it consults, and modules loaded through
``importlib.import_module`` (the loader records ``import`` statements only).
Such a file is re-evaluated when it or an imported module changes, not when
those change.
"""

from __future__ import annotations

import os
import platform
import sys

import msgspec

from ..cache import FileDigests, Store, scope_id
from ..core import ChutesBuildError, __version__
from ..workspace import FileSnapshot, Outcome, Workspace, import_isolated, snapshot_file
from ._graph import no_gc_pauses
from ._keys import digest_of

__all__ = ["Evaluation", "evaluate", "evaluation_key"]

_VERSION = 5  # 3: snapshots carry logos; 4: and warnings; 5: made in worker processes
_RUNTIME = (
    __version__,
    platform.python_implementation(),
    platform.python_version(),
    sys.implementation.cache_tag,
)


class _Entry(msgspec.Struct, array_like=True):
    key: str
    snapshot: FileSnapshot


class _EvalCache(msgspec.Struct):
    version: int
    root: str
    entries: dict[str, _Entry]


class Evaluation(msgspec.Struct, kw_only=True):
    """Snapshots of the files that loaded, errors of those that did not, and which were imported."""

    snapshots: list[FileSnapshot]
    errors: list[tuple[str, ChutesBuildError]]
    imported: list[str]
    #: ``(file, warning)`` pairs, once strict mode has been applied (see ``_load``).
    warnings: list = msgspec.field(default_factory=list)


def evaluation_key(rel: str, digest: str, deps: dict[str, str]) -> str:
    """The evaluation key of file ``rel`` with content ``digest`` and local imports ``deps``."""
    return digest_of(("eval", rel, digest, sorted(deps.items()), _RUNTIME))


def _dep_digests(deps: tuple[str, ...] | list[str], digests: FileDigests) -> dict[str, str] | None:
    found = {}
    for dep in deps:
        try:
            found[dep] = digests.get(dep).digest
        except OSError:
            return None
    return found


def _cached(
    rel: str, digest: str, entry: _Entry | None, digests: FileDigests
) -> FileSnapshot | None:
    if entry is None:
        return None
    deps = _dep_digests(entry.snapshot.deps, digests)
    if deps is None or evaluation_key(rel, digest, deps) != entry.key:
        return None
    return entry.snapshot


def _record(
    outcome: Outcome, digests: FileDigests, evaluation: Evaluation, entries: dict[str, _Entry]
) -> None:
    rel = outcome.rel
    evaluation.imported.append(rel)
    entries.pop(rel, None)
    error = outcome.error
    if error is not None:
        evaluation.errors.append((rel, error))
        return
    deps = _dep_digests([d for d in outcome.deps if d != rel], digests)
    digest = digests.get(rel).digest
    snapshot = snapshot_file(rel, outcome.chutes, digest, deps or {}, outcome.warnings)
    evaluation.snapshots.append(snapshot)
    if deps is not None:
        entries[rel] = _Entry(evaluation_key(rel, digest, deps), snapshot)


def _relative(path: str, root: str) -> str:
    if path.startswith(root + os.sep):
        return path[len(root) + 1 :].replace(os.sep, "/")
    return os.path.relpath(os.path.realpath(path), root).replace(os.sep, "/")


def evaluate(
    workspace: Workspace,
    files: list[str],
    store: Store,
    digests: FileDigests,
    complete: bool = False,
    timeout: float = 30.0,
) -> Evaluation:
    """Snapshots of ``files`` (absolute paths), from the cache where their key still holds.

    The others are imported in worker processes (``_isolate``), each file for
    at most ``timeout`` seconds. ``complete`` says ``files`` are all the
    workspace's chute files, so cache entries of other files are dropped.
    """
    scope = scope_id(digests.root)
    evaluation = Evaluation(snapshots=[], errors=[], imported=[])
    with no_gc_pauses():
        entries = _load_entries(store, scope, digests.root)
        before = dict(entries)
        misses = _lookup(files, entries, store, digests, evaluation)
    for outcome in import_isolated(workspace, misses, timeout) if misses else ():
        _record(outcome, digests, evaluation, entries)
    if complete:
        wanted = {_relative(path, digests.root) for path in files}
        entries = {rel: entry for rel, entry in entries.items() if rel in wanted}
    if entries.keys() != before.keys() or any(entries[r] is not before[r] for r in entries):
        store.save_struct("eval", scope, _EvalCache(_VERSION, digests.root, entries))
    evaluation.snapshots.sort(key=lambda s: s.rel)
    evaluation.errors.sort(key=lambda item: item[0])
    return evaluation


def _load_entries(store: Store, scope: str, root: str) -> dict[str, _Entry]:
    saved = store.load_struct("eval", scope, _EvalCache)
    valid = saved is not None and saved.version == _VERSION and saved.root == root
    return dict(saved.entries) if valid else {}


def _lookup(
    files: list[str],
    entries: dict[str, _Entry],
    store: Store,
    digests: FileDigests,
    evaluation: Evaluation,
) -> list[str]:
    """Add the cached snapshots to ``evaluation``; return the files that must be imported."""
    misses = []
    for path in files:
        rel = _relative(path, digests.root)
        snapshot = _cached(rel, digests.get(rel).digest, entries.get(rel), digests)
        store.count("eval", snapshot is not None)
        if snapshot is None:
            misses.append(path)
        else:
            evaluation.snapshots.append(snapshot)
    return misses
