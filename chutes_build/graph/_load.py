"""From a workspace to its build graph: discover, evaluate (cached), compile."""

from __future__ import annotations

from .._files import read_ignore_patterns
from .._workspace import Workspace, discover
from ..cache import FileDigests, Store
from ._compile import compile_snapshots
from ._evaluate import evaluate
from ._graph import BuildGraph, no_gc_pauses

__all__ = ["compile_workspace"]


def compile_workspace(workspace: Workspace, paths: list[str] | None, store: Store) -> BuildGraph:
    """The build graph of the chute files ``paths`` select (default: the workspace's globs).

    Files are imported only when their evaluation is not cached in ``store``;
    file digests are stat-cached there too. Load and compile errors are
    collected in ``graph.errors`` rather than raised.
    """
    digests = FileDigests(workspace.root, store)
    files = discover(workspace, paths or None)
    evaluation = evaluate(workspace, files, store, digests, complete=not paths)
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
