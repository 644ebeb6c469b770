"""``ls`` and ``dockerfile``: what the workspace defines, and the SDK-identical Dockerfile."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from ..core import DefinitionError, LoadError
from ..definitions import Chute, ChutePack, Image, NodeSelector
from ..workspace import find_workspace, import_timeout, load_paths
from ._common import (
    JSON,
    PATHS,
    STRICT,
    Col,
    apply_strict,
    complete_names,
    console,
    file_warnings,
    print_json,
    report_errors,
    report_warnings,
    table,
    warnings_json,
)
from ._graph import open_store

if TYPE_CHECKING:
    from ..graph import ChuteSnapshot


def chute_summary(rel: str, chute: ChuteSnapshot) -> dict:
    """A chute as plain data, for ``ls --json``."""
    selector, image = chute.node_selector, chute.image
    return {
        "file": rel,
        "attr": chute.attr,
        "name": chute.name,
        "username": chute.username,
        "uid": chute.uid,
        "image": f"{image.name}:{image.tag}" if image else chute.image_ref,
        "image_uid": image.uid if image else None,
        "prebuilt": image is None,
        "standard_template": chute.standard_template,
        "concurrency": chute.settings.get("concurrency"),
        "cords": list(chute.cords),
        "node_selector": selector,
        "supported_gpus": NodeSelector(**selector).supported_gpus if selector else [],
    }


def ls(paths: list[str] = PATHS, as_json: bool = JSON, strict: bool = STRICT) -> None:
    """List the chutes found: their image, cords and node selector."""
    from ..graph import evaluate_workspace

    workspace = find_workspace(paths[0] if paths else None)
    with open_store(workspace) as store:
        evaluation = evaluate_workspace(workspace, paths, store, strict=strict)
    warnings = evaluation.warnings
    rows = [chute_summary(f.rel, c) for f in evaluation.snapshots for c in f.chutes]
    report_warnings(warnings)
    failed = report_errors([error for _, error in evaluation.errors])
    files = len(evaluation.snapshots) + failed
    if as_json:
        errors = [{"file": rel, "error": str(error)} for rel, error in evaluation.errors]
        print_json(
            {"chutes": rows, "errors": errors, "warnings": warnings_json(warnings, workspace.root)}
        )
    else:
        listing = table("chute", "file", "image", Col("cords", fold=False), Col("gpus", fold=False))
        for row in rows:
            selector = row["node_selector"]
            gpus = (
                f"{selector['gpu_count']}x >={selector['min_vram_gb_per_gpu']}GB"
                if selector
                else "-"
            )
            cords = "\n".join(c["path"] for c in row["cords"]) or "-"
            listing.add_row(row["name"], f"{row['file']}:{row['attr']}", row["image"], cords, gpus)
        console.print(listing)
        console.print(f"{len(rows)} chutes in {files} files, {failed} with errors")
    if failed:
        raise typer.Exit(1)


def dockerfile(
    target: str = typer.Argument(
        ..., metavar="FILE.py:ATTR|CHUTE", autocompletion=complete_names,
        help="A chute, template result or image in a file, or a chute's name.",
    ),
    strict: bool = STRICT,
) -> None:  # fmt: skip
    """Print the Dockerfile the chutes SDK writes for an image (or a chute's image)."""
    path, _, attr = target.rpartition(":")
    if not target.endswith(".py") and not path.endswith(".py"):
        path, attr = _chute_file(target, strict)
    if not path or not attr or not path.endswith(".py"):
        raise DefinitionError(
            f"expected FILE.py:ATTR, got {target!r}",
            fix="e.g. chutes-build dockerfile my_chute.py:chute",
            file="<command line>",
        )
    if not os.path.isfile(path):
        raise LoadError(f"no such file: {path}", fix="check the path", file="<command line>")
    workspace = find_workspace(path)
    timeout = import_timeout(workspace.config)
    loaded = load_paths(workspace, [path], require_chute=False, timeout=timeout)[0]
    apply_strict([loaded], strict or workspace.config.strict)
    report_warnings(file_warnings([loaded]))
    if loaded.error is not None:
        raise loaded.error
    if not hasattr(loaded.module, attr):
        if loaded.raised:  # the file caught the error that kept it from defining ``attr``
            raise loaded.raised[0].locate(path, None)
        names = sorted(a for a, _ in loaded.chutes + loaded.images)
        raise LoadError(
            f"{path} has no attribute {attr!r}",
            file=path,
            fix=f"use one of: {', '.join(names) or '(none defined)'}",
        )
    value = getattr(loaded.module, attr)
    if isinstance(value, ChutePack):
        value = value.chute
    if isinstance(value, Chute):
        if not isinstance(value.image, Image):
            raise DefinitionError(
                f"chute {value.name!r} uses the prebuilt image {value.image!r}, "
                "which has no Dockerfile here",
                file=path,
                fix="point at a chute whose image is an Image",
            )
        value = value.image
    if not isinstance(value, Image):
        raise LoadError(
            f"{attr!r} in {path} is a {type(value).__name__}, not a Chute or Image",
            file=path,
            fix="name a Chute, a template's result or an Image",
        )
    typer.echo(str(value))


def _chute_file(name: str, strict: bool) -> tuple[str, str]:
    """``(file, attr)`` of the chute called ``name`` (the evaluation cache knows it)."""
    from ..graph import evaluate_workspace

    workspace = find_workspace(None)
    with open_store(workspace) as store:
        evaluation = evaluate_workspace(workspace, [name], store, strict=strict)
    for snap in evaluation.snapshots:
        for chute in snap.chutes:
            if chute.name == name:
                return os.path.join(workspace.root, snap.rel), chute.attr
    raise DefinitionError(
        f"expected FILE.py:ATTR or a chute's name, got {name!r}",
        fix="e.g. chutes-build dockerfile my_chute.py:chute",
        file="<command line>",
    )


def register(app: typer.Typer) -> None:
    app.command("ls")(ls)
    app.command("dockerfile")(dockerfile)
