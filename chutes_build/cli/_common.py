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

from ..core import ChutesBuildError, DefinitionWarning
from ..workspace import LoadedFile, Workspace
from ._table import Col, FitTable

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


def table(*headers: str | Col) -> FitTable:
    """A table for human output that fits the terminal: long names and paths fold at
    their separators (``/``, ``-``, ...), never in the middle of a word (see ``_table``)."""
    return FitTable([h if isinstance(h, Col) else Col(h) for h in headers])


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


def network_hint(option: str | None, workspace: Workspace) -> str | None:
    """For a build step that failed while the build had no network: where ``none`` was
    set and how to change it (``None`` when the build had a network)."""
    env = os.environ.get("CHUTES_BUILD_NETWORK")
    if (option or env or workspace.config.network) != "none":
        return None
    if option:
        where, fix = "--network none was given", "pass --network host"
    elif env:
        where, fix = "CHUTES_BUILD_NETWORK=none is set", "set CHUTES_BUILD_NETWORK=host"
    else:
        line = _setting_line(workspace, "network")
        where = f'{line} sets network = "none" in [tool.chutes-build]'
        fix = f'set network = "host" at {line} (or pass --network host for one build)'
    return (
        f"  note: this build ran without network: {where}; a step that downloads "
        f"(apt, pip, curl, git) fails that way\n  fix: {fix} if the step needs the network"
    )


def _setting_line(workspace: Workspace, key: str) -> str:
    """``pyproject.toml:LINE`` of ``key`` in the ``[tool.chutes-build]`` table."""
    path = workspace.pyproject or "pyproject.toml"
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    table = ""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                text = line.strip()
                if text.startswith("["):
                    table = text.strip("[] ")
                elif table == "tool.chutes-build" and text.split("=", 1)[0].strip() in (
                    key, key.replace("-", "_")
                ):
                    return f"{shown}:{number}"
    except OSError:
        pass
    return shown


def add_network_hint(failed: list[dict], option: str | None, workspace: Workspace) -> None:
    """Append :func:`network_hint` to each failed build step of ``failed`` (in place)."""
    hint = network_hint(option, workspace) if failed else None
    for failure in failed if hint else ():
        if str(failure.get("node", "")).startswith("layer:"):
            failure["error"] = f"{failure['error']}\n{hint}"
