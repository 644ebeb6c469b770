"""Helpers shared by the commands: loading the workspace and printing results."""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Column, Table

from ..core import ChutesBuildError, DefinitionWarning
from ..workspace import LoadedFile

#: Narrowest human output when stdout is not a terminal (a pipe, a file, a CI log),
#: where rich would otherwise assume 80 columns and squeeze the tables.
PIPE_WIDTH = 120


class _Console(Console):
    """A rich console at least ``PIPE_WIDTH`` columns wide when stdout is not a terminal.

    Checked at each print (tests swap ``sys.stdout``); an explicit ``width`` wins.
    """

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self._width is None and not self.is_terminal:
            return ConsoleDimensions(max(PIPE_WIDTH, size.width), size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = _Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def complete_paths(incomplete: str) -> list[str]:
    """Shell completion for PATHS: the chute names the evaluation cache knows (no file is
    imported), then the files and folders that start with ``incomplete``."""
    try:
        return _cached_names(incomplete) + _entries(incomplete)
    except (ChutesBuildError, OSError):
        return []


def complete_names(incomplete: str) -> list[str]:
    """Shell completion for a chute name: those the evaluation cache knows."""
    try:
        return _cached_names(incomplete)
    except (ChutesBuildError, OSError):
        return []


def _cached_names(incomplete: str) -> list[str]:
    from ..cache import DiskStore, default_cache_dir
    from ..graph import known_chute_names
    from ..workspace import find_workspace

    workspace = find_workspace(None)
    if workspace.pyproject is None:
        return []
    with DiskStore(default_cache_dir(workspace.config.cache_dir, workspace.root)) as store:
        names = known_chute_names(store, workspace.root)
    return [name for name in names if name.startswith(incomplete)]


def _entries(incomplete: str) -> list[str]:
    folder, _, start = incomplete.rpartition("/")
    found = []
    for entry in sorted(os.scandir(folder or "."), key=lambda e: e.name):
        if entry.name.startswith(start) and not entry.name.startswith("."):
            path = f"{folder}/{entry.name}" if folder else entry.name
            found.append(path + "/" if entry.is_dir() else path)
    return found


PATHS = typer.Argument(
    None,
    help="Chutes: files, folders, chute names or globs over names ('*-echo'); an argument "
    "that exists on disk is a path (default: the workspace's [tool.chutes-build] globs).",
    autocompletion=complete_paths,
)
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
STRICT = typer.Option(
    False,
    "--strict",
    help="Treat warnings as errors: GPU names the catalogue lacks, unknown NodeSelector "
    "keywords, shell text Docker rewrites (also `strict = true` in the workspace).",
)


def table(*headers: str) -> Table:
    """A table for human output whose cells wrap (long names and paths fold onto the
    next line) instead of being cut with an ellipsis."""
    return Table(*(Column(header, overflow="fold") for header in headers))


def apply_strict(files: list[LoadedFile], strict: bool) -> None:
    """Under ``strict``, a file's first warning becomes its error."""
    for loaded in files:
        if strict and loaded.error is None and loaded.warnings:
            loaded.error = loaded.warnings[0].as_error()
            loaded.warnings = loaded.warnings[1:]


def file_warnings(files: list[LoadedFile]) -> list[tuple[str, DefinitionWarning]]:
    """``(file, warning)`` for every warning of ``files``."""
    return [(f.rel, w) for f in files for w in f.warnings]


def report_warnings(warnings: list[tuple[str, DefinitionWarning]]) -> None:
    """Print each warning once, to stderr."""
    seen: set[DefinitionWarning] = set()
    for _rel, warning in warnings:
        if warning not in seen:
            seen.add(warning)
            err_console.print(
                f"[yellow]warning:[/yellow] {escape(str(warning))}", markup=True, soft_wrap=True
            )


def warnings_json(warnings: list[tuple[str, DefinitionWarning]], root: str) -> list[dict]:
    """The warnings for ``--json``: ``file`` relative to the workspace root."""
    real = os.path.realpath(root)
    return [
        {**w.relative_to(real).as_dict(), "chute_file": rel} for rel, w in dict.fromkeys(warnings)
    ]


def report_errors(errors: list[ChutesBuildError]) -> int:
    """Print each file's load error to stderr; return how many there were."""
    for error in errors:
        if os.environ.get("CHUTES_BUILD_DEBUG"):
            err_console.print(escape("".join(traceback.format_exception(error))), soft_wrap=True)
        err_console.print(f"[red]error:[/red] {escape(str(error))}", markup=True, soft_wrap=True)
    return len(errors)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
