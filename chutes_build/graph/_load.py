"""From a workspace to its build graph: discover, evaluate (cached), compile."""

from __future__ import annotations

from .._files import read_ignore_patterns
from .._workspace import Workspace, discover, import_timeout
from ..cache import FileDigests, Store
from ._compile import compile_snapshots
from ._evaluate import Evaluation, evaluate
from ._graph import BuildGraph, no_gc_pauses

__all__ = ["compile_workspace", "evaluate_workspace"]


def _evaluate(
    workspace: Workspace, paths: list[str] | None, store: Store, timeout: float | None
) -> tuple[Evaluation, FileDigests]:
    digests = FileDigests(workspace.root, store)
    files = discover(workspace, paths or None)
    timeout = import_timeout(workspace.config) if timeout is None else timeout
    return evaluate(workspace, files, store, digests, not paths, timeout), digests


def evaluate_workspace(
    workspace: Workspace, paths: list[str] | None, store: Store, timeout: float | None = None
) -> Evaluation:
    """The snapshots (and load errors) of the chute files ``paths`` select.

    ``timeout`` (seconds per file) defaults to the workspace's ``import-timeout``
    or ``CHUTES_BUILD_IMPORT_TIMEOUT``.
    """
    evaluation, digests = _evaluate(workspace, paths, store, timeout)
    digests.save()
    return evaluation


def compile_workspace(
    workspace: Workspace, paths: list[str] | None, store: Store, timeout: float | None = None
) -> BuildGraph:
    """The build graph of the chute files ``paths`` select (default: the workspace's globs).

    Files are imported only when their evaluation is not cached in ``store``,
    each in a worker process for at most ``timeout`` seconds (see
    :func:`evaluate_workspace`); file digests are stat-cached there too. Load
    and compile errors are collected in ``graph.errors`` rather than raised.
    """
    evaluation, digests = _evaluate(workspace, paths, store, timeout)
    with no_gc_pauses():
        graph = compile_snapshots(
            evaluation.snapshots,
            digests,
            base_images=workspace.config.base_images,
            ignore=read_ignore_patterns(digests.root),
        )
    graph.errors[:0] = evaluation.errors
    graph.imported = evaluation.imported
    digests.save()
    return graph
