"""From a workspace to its build graph: discover, evaluate (cached), compile."""

from __future__ import annotations

from ..cache import FileDigests, Store
from ..definitions import read_ignore_patterns
from ..workspace import Workspace, import_timeout
from ._compile import compile_snapshots
from ._evaluate import Evaluation, evaluate
from ._graph import BuildGraph, no_gc_pauses
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
    picked = select_files(workspace, paths, store, digests)
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
    with no_gc_pauses():
        graph = compile_snapshots(
            evaluation.snapshots,
            digests,
            base_images=workspace.config.base_images,
            ignore=read_ignore_patterns(digests.root),
        )
    graph.errors[:0] = evaluation.errors
    graph.warnings = evaluation.warnings
    graph.imported = evaluation.imported
    digests.save()
    return graph


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
