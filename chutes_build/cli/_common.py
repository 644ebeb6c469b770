"""Helpers shared by the commands: loading the workspace and printing results."""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from .._workspace import LoadedFile, Workspace, discover, find_workspace, load_paths

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

PATHS = typer.Argument(
    None, help="Chute files or folders (default: the workspace's [tool.chutes-build] globs)."
)
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def load_workspace(paths: list[str] | None) -> tuple[Workspace, list[LoadedFile]]:
    """Find the workspace for ``paths`` and import every chute file in it."""
    start = paths[0] if paths else None
    workspace = find_workspace(start)
    files = discover(workspace, paths or None)
    return workspace, load_paths(workspace, files)


def report_errors(files: list[LoadedFile]) -> int:
    """Print each file's load error to stderr; return how many there were."""
    errors = [f.error for f in files if f.error is not None]
    for error in errors:
        if os.environ.get("CHUTES_BUILD_DEBUG"):
            err_console.print(escape("".join(traceback.format_exception(error))), soft_wrap=True)
        err_console.print(f"[red]error:[/red] {escape(str(error))}", markup=True, soft_wrap=True)
    return len(errors)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
