"""From the command line's PATHS to the files to evaluate and the chutes to keep.

A file or folder selects every chute in it. A chute name selects its file, then that
chute alone; a glob selects every chute whose name it matches. The evaluation cache
knows which file defines which name, so naming a chute imports nothing else when the
cache already holds a valid entry defining it: only globs, and names the cache does
not know, evaluate every chute file of the workspace (which a warm cache answers
without importing either). Shell completion reads the same cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from ..cache import FileDigests, Store, scope_id
from ..core import WorkspaceError
from ..workspace import (
    FileSnapshot,
    Selection,
    Workspace,
    discover,
    matches,
    missing_path_error,
    no_match_error,
    split_arguments,
)
from ._evaluate import Evaluation, _load_entries, _relative

__all__ = ["Picked", "known_chute_names", "select_files"]


@dataclass
class Picked:
    """The files to evaluate, and which of their chutes the command line selected."""

    files: list[str]
    selection: Selection = field(default_factory=Selection)
    #: Workspace-relative files named as paths (or inside a folder named): all their chutes.
    whole: set[str] = field(default_factory=set)
    #: Every file names may be defined in, when ``files`` came from the evaluation cache.
    fallback: list[str] | None = None

    def evaluate(self, run: Callable[[list[str]], Evaluation]) -> Evaluation:
        """``run(files)``, and ``run`` over every file again when a name the cache placed
        in a file is no longer there (what was evaluated once is cached by then)."""
        found = run(self.files)
        if self.fallback is not None and self._missing(found):
            first, found = found.imported, run(self.fallback)
            found.imported[:0] = first
        return found

    def _missing(self, found: Evaluation) -> bool:
        names = [c.name for s in found.snapshots for c in s.chutes]
        return any(not any(matches(p, n) for n in names) for p in self.selection.patterns)

    def apply(self, found: Evaluation) -> Evaluation:
        """``found`` less the chutes no argument selected; raises for an argument that
        matched nothing (with the closest names)."""
        patterns = self.selection.patterns
        if not patterns:
            return found
        hit: set[str] = set()
        kept = [snap for snap in (self._keep(s, hit) for s in found.snapshots) if snap]
        for pattern in patterns:
            if pattern not in hit:
                names = [c.name for s in found.snapshots for c in s.chutes]
                raise no_match_error(pattern, names, [rel for rel, _ in found.errors])
        errors = [(rel, err) for rel, err in found.errors if rel in self.whole]
        return Evaluation(snapshots=kept, errors=errors, imported=found.imported,
                          warnings=found.warnings)  # fmt: skip

    def _keep(self, snap: FileSnapshot, hit: set[str]) -> FileSnapshot | None:
        chosen = []
        for chute in snap.chutes:
            named = [p for p in self.selection.patterns if matches(p, chute.name)]
            hit.update(named)
            if named or snap.rel in self.whole:
                chosen.append(chute)
        if snap.rel in self.whole or len(chosen) == len(snap.chutes):
            return snap if chosen or snap.rel in self.whole else None
        return msgspec.structs.replace(snap, chutes=tuple(chosen)) if chosen else None


def select_files(
    workspace: Workspace, args: list[str] | None, store: Store, digests: FileDigests
) -> Picked:
    """The chute files ``args`` (files, folders, chute names, globs) select."""
    if not args:
        return Picked(discover(workspace))
    selection = split_arguments(args)
    _check_paths(workspace, selection.paths, digests.root)
    named = discover(workspace, selection.paths) if selection.paths else []
    whole = {_relative(path, digests.root) for path in named}
    if not selection.patterns:
        return Picked(named, selection, whole)
    if workspace.pyproject is None and not named:
        raise _names_need_a_workspace(selection.patterns[0], workspace.root)
    pool = discover(workspace) if workspace.pyproject is not None else named
    defining = _cached_files(selection, pool, digests, store) if selection.exact else None
    if defining is None:
        return Picked(sorted({*named, *pool}), selection, whole)
    return Picked(sorted({*named, *defining}), selection, whole, sorted({*named, *pool}))


def _names_need_a_workspace(pattern: str, root: str) -> WorkspaceError:
    return WorkspaceError(
        f"{pattern!r} is no file or folder, and chute names are looked up only in a "
        f"workspace: there is no pyproject.toml with a [tool.chutes-build] table in {root} "
        "or a folder above it",
        fix="name the chute's file or folder, or run in a workspace",
        file="<command line>",
    )


def _check_paths(workspace: Workspace, paths: list[str], root: str) -> None:
    for arg in paths:
        if not os.path.exists(arg):
            known = discover(workspace) if workspace.pyproject is not None else []
            raise missing_path_error(arg, [_relative(path, root) for path in known])


def _cached_files(selection: Selection, pool: list[str], digests: FileDigests, store: Store):
    """The files whose cache entries define the names selected (``None``: some name is
    defined in no entry, so every file must be evaluated). An entry may be stale: its
    file is evaluated again, and ``Picked.evaluate`` falls back to every file when the
    name has moved."""
    entries = _load_entries(store, scope_id(digests.root), digests.root)
    wanted, files = set(selection.patterns), []
    for path in pool:
        entry = entries.get(_relative(path, digests.root))
        defined = {c.name for c in entry.snapshot.chutes} if entry is not None else set()
        if wanted & defined:
            files.append(path)
            wanted -= defined
    return files if not wanted else None


def known_chute_names(store: Store, root: str) -> list[str]:
    """The chute names the evaluation cache holds for the workspace at ``root``, sorted
    (for shell completion: nothing is imported or digested)."""
    real = os.path.realpath(root)
    entries = _load_entries(store, scope_id(real), real)
    return sorted({c.name for entry in entries.values() for c in entry.snapshot.chutes})
