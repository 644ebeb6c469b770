"""``graph``, ``plan``, ``why``, ``cache stats|verify|gc``: the build graph and the cache."""

from __future__ import annotations

import gc
import os
import re

import typer
from rich.markup import escape

from .. import noop
from ..cache import DiskStore, Store, default_cache_dir, parse_age, parse_size
from ..core import GraphError
from ..workspace import Workspace, find_workspace
from ._common import (
    JSON,
    PATHS,
    STRICT,
    console,
    err_console,
    report_warnings,
    table,
    warnings_json,
)

FORMAT = typer.Option("tree", "--format", "-f", help="tree, dot, mermaid, json or html.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.")

cache_app = typer.Typer(help="Inspect and trim the local cache.", no_args_is_help=True)


def open_store(workspace: Workspace) -> DiskStore:
    """The workspace's disk store (``CHUTES_BUILD_CACHE_DIR`` > ``cache_dir`` > user cache)."""
    return DiskStore(default_cache_dir(workspace.config.cache_dir, workspace.root))


def _compile(paths: list[str] | None, store: Store | None = None, strict: bool = False):
    from ..graph import compile_workspace

    workspace = find_workspace(paths[0] if paths else None)
    store = store or open_store(workspace)
    graph = compile_workspace(workspace, paths, store, strict)
    # A short-lived command keeps its graph to the end: move it out of the cycle
    # collector's reach, whose full passes over it cost more than planning (measured).
    gc.freeze()
    return workspace, store, graph


def local_conditions(workspace) -> dict:
    """What the local target's recorded outcomes and runtime layers depend on (see
    ``engine.local_conditions``); the engine is imported only when a GPU may be in use,
    so a plain ``plan`` stays light."""
    production = workspace.config.runtime_production
    if os.environ.get("CHUTES_BUILD_LOCAL_GPU") != "1":
        return {"target": "local", "gpu": False, "production": production}
    from ..engine import has_gpu
    from ..engine import local_conditions as conditions

    return conditions(has_gpu(dict(os.environ)), production)


def _report(graph) -> int:
    report_warnings(graph.warnings)
    for _rel, error in graph.errors:
        err_console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
    return len(graph.errors)


def graph(
    paths: list[str] = PATHS, fmt: str = FORMAT, output: str = OUTPUT, strict: bool = STRICT
) -> None:
    """Show the build graph of the workspace's chutes (with each node's cache status)."""
    from ..graph import FORMATS, plan, render

    if fmt not in FORMATS:
        raise GraphError(f"unknown graph format {fmt!r}", fix=f"use one of: {', '.join(FORMATS)}")
    workspace, store, built = _compile(paths, strict=strict)
    with store:
        planned = plan(built, store, local_conditions(workspace))
        text = render(built, fmt, planned, title=f"chutes-build: {os.path.basename(built.root)}")
    failed = _report(built)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text if fmt != "tree" else console.render_str(text).plain)
        err_console.print(f"wrote {output} ({len(built)} nodes)")
    elif fmt == "tree":
        console.print(text, soft_wrap=True)
    else:
        typer.echo(text)
    if failed:
        raise typer.Exit(1)


TARGET = typer.Option(
    None, "--target", help="chutes: what `up --target chutes` would build and deploy, with fees."
)


def plan(
    paths: list[str] = PATHS, as_json: bool = JSON, target: str = TARGET, strict: bool = STRICT
) -> None:
    """Say which nodes are cached and which must be built or deployed, and why."""
    from ..graph import plan as make_plan

    if target not in (None, "local", "chutes"):
        raise GraphError(f"unknown target {target!r}", fix="use --target local or --target chutes")
    workspace, store, built = _compile(paths, strict=strict)
    if target == "chutes":
        return _plan_chutes(workspace, store, built, as_json)
    with store:
        result = make_plan(built, store, local_conditions(workspace))
    failed = _report(built)
    if as_json:
        nodes = (
            {"key": n.key, "kind": n.kind, "label": n.label, "status": n.status, "reason": n.reason,
             "reasons": n.reasons, "chutes": n.chutes, "outcome": n.outcome}
            for n in result.nodes
        )  # fmt: skip
        errors = [{"file": rel, "error": str(err)} for rel, err in built.errors]
        summary = {**result.summary, "imported": len(built.imported)}
        warnings = warnings_json(built.warnings, built.root)
        print_json_rows({"nodes": nodes, "summary": summary, "errors": errors,
                         "warnings": warnings})  # fmt: skip
    else:
        _print_plan(result)
    if failed:
        raise typer.Exit(1)
    noop.run_settled(None)  # a plan reads only: the console script may record it


def _plan_chutes(workspace, store, built, as_json: bool) -> None:
    from ._chutes import plan_chutes_command, print_chutes_plan

    with store:
        result = plan_chutes_command(workspace, store, built)
    failed = _report(built)
    if as_json:
        errors = [{"file": rel, "error": str(err)} for rel, err in built.errors]
        warnings = warnings_json(built.warnings, built.root)
        print_json({**result, "errors": errors, "warnings": warnings})
    else:
        print_chutes_plan(result)
    if failed:
        raise typer.Exit(1)


#: Dirty nodes listed by the human ``plan`` output; ``--json`` lists them all.
PLAN_ROWS = 60


def _print_plan(result) -> None:
    dirty = [n for n in result.nodes if n.status == "dirty"]
    if dirty:
        rows = table("kind", "node", "key", "why")
        for n in dirty[:PLAN_ROWS]:
            rows.add_row(n.kind, escape(n.label), n.key[:12], escape(n.reason))
        console.print(rows)
        if len(dirty) > PLAN_ROWS:
            console.print(f"... and {len(dirty) - PLAN_ROWS} more dirty nodes (--json lists all)")
    s = result.summary
    chutes = ", ".join(s["dirty_chutes"][:10]) + (" ..." if len(s["dirty_chutes"]) > 10 else "")
    settled = f", {s['outcomes']} settled ({_outcomes(s)})" if s["outcomes"] else ""
    console.print(f"{s['nodes']} nodes: {s['cached']} cached, {s['dirty']} dirty{settled}")
    if not s["dirty"]:
        console.print("nothing to do")
    if chutes:
        console.print(f"chutes to deploy ({len(s['dirty_chutes'])}): {escape(chutes)}")


def _outcomes(summary) -> str:
    counts: dict[str, int] = {}
    for outcome in summary["chute_outcomes"].values():
        counts[outcome] = counts.get(outcome, 0) + 1
    shown = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"{len(summary['chute_outcomes'])} chute(s): {shown}"


def why(
    target: str = typer.Argument(
        ..., help="A chute name, image name:tag, file.py:attr or key prefix."
    ),
    paths: list[str] = PATHS,
    as_json: bool = JSON,
    strict: bool = STRICT,
) -> None:
    """Explain one node input by input: what changed since the last recorded run."""
    from ..graph import explain

    workspace, store, built = _compile(paths, strict=strict)
    _report(built)
    with store:
        node, changes = explain(built, built.resolve(target), store, local_conditions(workspace))
    if as_json:
        warnings = warnings_json(built.warnings, built.root)
        print_json({"node": _plain(node), "inputs": [_plain(c) for c in changes],
                    "warnings": warnings})  # fmt: skip
        return
    shown = node.outcome or node.status
    console.print(f"{node.kind} [bold]{escape(node.label)}[/]  {node.key}  {shown}")
    rows = table("input", "status", "before", "now")
    for c in changes:
        style = "dim" if c.status == "unchanged" else "yellow"
        rows.add_row(
            escape(c.name), f"[{style}]{c.status}[/]", escape(_cut(c.old)), escape(_cut(c.new))
        )
    console.print(rows)
    if node.status == "cached":
        console.print("cached: nothing to do")
    elif node.status == "outcome":
        console.print(f"{escape(node.reason)} (recorded by `up`; nothing to do)")
    elif node.status == "unused":
        console.print(f"{escape(node.reason)}: `plan --target chutes` shows its state")
    else:
        console.print(f"dirty: {escape(node.reason)}")


def _cut(value: str | None) -> str:
    """An input's value for the table: digests shortened to 12 hex digits, then cut."""
    if value is None:
        return "-"
    value = _DIGEST.sub(lambda m: m.group(1)[:12], value)
    return value if len(value) <= 40 else value[:37] + "..."


_DIGEST = re.compile(r"\b([0-9a-f]{32,64})\b")


def _plain(value) -> dict:
    import msgspec

    return msgspec.to_builtins(value)


@cache_app.command("stats")
def cache_stats(as_json: bool = JSON) -> None:
    """Entries, bytes and hit rates of the local cache."""
    store = open_store(find_workspace(None))
    stats = store.stats()
    rates = {what: stats.hit_rate(what) for what in ("ac", "cas", "eval")}
    if as_json:
        print_json({**_plain(stats), "total_bytes": stats.total_bytes, "hit_rates": rates})
        return
    rows = table("area", "entries", "bytes")
    for area, count in stats.entries.items():
        rows.add_row(area, str(count), _size(stats.bytes[area]))
    console.print(f"cache at {stats.location}")
    console.print(rows)
    for what, rate in rates.items():
        total = stats.counters[f"{what}_hit"] + stats.counters[f"{what}_miss"]
        shown = f"{rate:.1%} of {total}" if rate is not None else "no lookups yet"
        console.print(f"{what} hit rate: {shown}")


@cache_app.command("verify")
def cache_verify(as_json: bool = JSON) -> None:
    """Read every cache entry back and check it (exit 1 when one is corrupt)."""
    store = open_store(find_workspace(None))
    bad = store.verify()
    checked = len(store.entries())
    if as_json:
        rows = [{"area": a, "name": n, "why": w} for a, n, w in bad]
        print_json({"location": store.location, "checked": checked, "corrupt": rows})
    else:
        for area, name, why in bad:
            err_console.print(f"[red]corrupt:[/red] {area}/{name}: {escape(why)}", soft_wrap=True)
        console.print(f"cache at {escape(store.location)}: {checked} entries, {len(bad)} corrupt",
                      soft_wrap=True)  # fmt: skip
    if bad:
        raise typer.Exit(1)


@cache_app.command("gc")
def cache_gc(
    max_size: str = typer.Option(
        None, "--max-size", help="Evict least recently used entries above this size."
    ),
    older_than: str = typer.Option(
        None, "--older-than", help="Evict entries unused for this long (30m, 7d)."
    ),
    as_json: bool = JSON,
) -> None:
    """Evict least recently used entries from the local cache."""
    size = parse_size(max_size) if max_size is not None else None
    age = parse_age(older_than) if older_than is not None else None
    result = open_store(find_workspace(None)).gc(max_size=size, older_than=age)
    if as_json:
        print_json(_plain(result))
        return
    console.print(
        f"removed {result.removed} entries ({_size(result.freed)}); "
        f"kept {result.kept} ({_size(result.kept_bytes)})"
    )


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def print_json(data) -> None:
    """JSON on stdout (msgspec: a plan of thousands of nodes prints in milliseconds)."""
    import sys

    import msgspec

    sys.stdout.write(msgspec.json.format(msgspec.json.encode(data), indent=2).decode() + "\n")


def print_json_rows(data: dict) -> None:
    """What :func:`print_json` prints for ``data``, written piece by piece: a value that is
    an iterator is made and written one item at a time (a plan's 20,000 node rows are
    never all held, nor the whole document)."""
    import sys
    from collections.abc import Iterator

    import msgspec

    def text(value, indent: str) -> str:
        formatted = msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
        return formatted.replace("\n", "\n" + indent)

    write = sys.stdout.write
    write("{")
    for i, (key, value) in enumerate(data.items()):
        write(("," if i else "") + "\n  " + text(key, "") + ": ")
        if not isinstance(value, Iterator):
            write(text(value, "  "))
            continue
        empty = True
        for item in value:
            write(("[" if empty else ",") + "\n    " + text(item, "    "))
            empty = False
        write("[]" if empty else "\n  ]")
    write("\n}\n" if data else "}\n")


def register(app: typer.Typer) -> None:
    app.command("graph")(graph)
    app.command("plan")(plan)
    app.command("why")(why)
    app.add_typer(cache_app, name="cache")
