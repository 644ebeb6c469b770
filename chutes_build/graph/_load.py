"""From a workspace to its build graph: discover, evaluate, compile, each cached.

A warm run (nothing changed) lists the workspace's chute files from the scan
cache, reads their snapshots from the evaluation cache and the compiled graph
from the graph cache, checking folders' and files' states instead of globbing,
importing and compiling again (see ``workspace/_discover.py``,
``_evaluate.py``, ``_graph_cache.py`` and ``definitions/_files.py``).
"""

from __future__ import annotations

from ..cache import FileDigests, Store, scope_id
from ..definitions import SelectionCache, read_ignore_patterns
from ..workspace import ScanCache, Workspace, import_timeout, using_scans
from ._compile import compile_snapshots
from ._evaluate import Evaluation, evaluate
from ._graph import BuildGraph, no_gc_pauses
from ._graph_cache import cached_compile
from ._select import select_files

__all__ = ["compile_workspace", "evaluate_workspace"]


def _evaluate(
    workspace: Workspace,
    paths: list[str] | None,
    store: Store,
    timeout: float | None,
    strict: bool,
) -> tuple[Evaluation, FileDigests]:
    """The evaluation with strict mode applied (see :func:`evaluate_workspace`)."""
    digests = FileDigests(workspace.root, store)
    picked = _select(workspace, paths, store, digests)
    timeout = import_timeout(workspace.config) if timeout is None else timeout

    def run(files: list[str]) -> Evaluation:
        return evaluate(workspace, files, store, digests, not paths, timeout)

    found = picked.apply(picked.evaluate(run))
    snapshots, warnings, refused = _split_warnings(
        found.snapshots, digests.root, strict or workspace.config.strict
    )
    evaluation = Evaluation(snapshots=snapshots, errors=found.errors + refused,
                            imported=found.imported, warnings=warnings)  # fmt: skip
    return evaluation, digests


def evaluate_workspace(
    workspace: Workspace,
    paths: list[str] | None,
    store: Store,
    timeout: float | None = None,
    strict: bool = False,
) -> Evaluation:
    """The snapshots, load errors and ``(file, warning)`` pairs of the chute files
    ``paths`` select.

    ``timeout`` (seconds per file) defaults to the workspace's ``import-timeout``
    or ``CHUTES_BUILD_IMPORT_TIMEOUT``. Under ``strict`` (or the workspace's
    ``strict``) a file with a warning is an error and its snapshot is left out.
    """
    evaluation, digests = _evaluate(workspace, paths, store, timeout, strict)
    digests.save()
    return evaluation


def compile_workspace(
    workspace: Workspace,
    paths: list[str] | None,
    store: Store,
    strict: bool = False,
    timeout: float | None = None,
) -> BuildGraph:
    """The build graph of the chute files ``paths`` select (default: the workspace's globs).

    Files are imported only when their evaluation is not cached in ``store``,
    each in a worker process for at most ``timeout`` seconds (see
    :func:`evaluate_workspace`); file digests are stat-cached there too. Load
    and compile errors are collected in ``graph.errors`` rather than raised,
    warnings in ``graph.warnings``. Under ``strict`` (or the workspace's
    ``strict``) a file with a warning is an error and stays out of the graph.
    """
    evaluation, digests = _evaluate(workspace, paths, store, timeout, strict)
    base_images, ignore = workspace.config.base_images, read_ignore_patterns(digests.root)

    def compile_with(recording) -> BuildGraph:  # the snapshots are not needed after it
        return compile_snapshots(evaluation.snapshots, recording, base_images, ignore, True)

    selections = _selections(store, digests.root)
    with no_gc_pauses():
        graph = cached_compile(store, evaluation.snapshots, digests, selections, compile_with,
                               base_images, ignore, remember=not evaluation.imported)  # fmt: skip
    _save_selections(store, digests.root, selections)
    graph.errors[:0] = evaluation.errors
    graph.warnings = evaluation.warnings
    graph.imported = evaluation.imported
    digests.save()
    return graph


def _select(workspace: Workspace, paths: list[str] | None, store: Store, digests: FileDigests):
    """What ``paths`` select, the workspace's globs scanned through the scan cache."""
    scope = scope_id(workspace.root)
    scans = ScanCache(store.load_struct("scan", scope, dict[str, ScanCache.entry_type]))
    with using_scans(scans):
        picked = select_files(workspace, paths, store, digests)
    if scans.dirty:
        store.save_struct("scan", scope, scans.entries)
    return picked


def _selections(store: Store, root: str) -> SelectionCache:
    saved = store.load_struct("select", scope_id(root), dict[str, SelectionCache.entry_type])
    return SelectionCache(saved)


def _save_selections(store: Store, root: str, selections: SelectionCache) -> None:
    if selections.dirty:
        store.save_struct("select", scope_id(root), selections.kept())


def _split_warnings(snapshots: list, root: str, strict: bool):
    """``(snapshots to compile, (file, warning) pairs, (file, error) pairs)``.

    Under ``strict`` a file's first warning is its error and the file is left out.
    """
    kept, warnings, refused = [], [], []
    for snap in snapshots:
        found = [w.under(root) for w in snap.warnings]
        if strict and found:
            refused.append((snap.rel, found[0].as_error()))
            found = found[1:]
        else:
            kept.append(snap)
        warnings.extend((snap.rel, w) for w in found)
    return kept, warnings, refused
