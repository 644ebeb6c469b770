"""``ps`` (alias ``status``): what the local target runs for this workspace, per chute;
``clean``: the engine's tags no cache entry uses, removed."""

from __future__ import annotations

import typer
from rich import box
from rich.markup import escape
from rich.table import Column, Table

from ..workspace import find_workspace
from ._common import JSON, console, print_json


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def ps(as_json: bool = JSON) -> None:
    """Show the workspace's local chutes: state, URL, health, uptime, restarts, image, key."""
    import trio

    from ..engine import local_status
    from ._build import _docker

    workspace = find_workspace(None)

    async def run():
        return await local_status(await _docker(None, True), workspace.root)

    rows = trio.run(run)
    if as_json:
        print_json({"chutes": rows})
        return
    if not rows:
        console.print("no chute containers of this workspace (start them with `chutes-build up`)")
        return
    # Only the chute name folds: a URL or a state cut in two cannot be read or pasted. The
    # light box leaves them room at 80 columns; the deploy key shows from 100 on.
    headers = ["state", "url", "health", "up", "restarts"]
    wide = console.width >= 100
    headers += ["key"] if wide else []
    fixed = [Column(h, no_wrap=True) for h in headers]
    listing = Table(Column("chute", overflow="fold"), *fixed, box=box.SIMPLE_HEAD)
    for row in rows:
        cells = [escape(row["chute"]), row["state"], row["url"] or "-",
                 escape(row["health"] or "-"), _uptime(row["uptime_s"]), str(row["restarts"])]
        listing.add_row(*cells, *([row["deploy"][:12] or "-"] if wide else []))  # fmt: skip
    console.print(listing)


DRY_RUN = typer.Option(False, "--dry-run", help="List what would be removed; remove nothing.")


def clean(dry_run: bool = DRY_RUN, as_json: bool = JSON) -> None:
    """Remove the engine's layer and runtime tags that no entry of this cache uses."""
    import trio

    from ..engine import clean_tags, unreferenced_tags
    from ._build import _docker
    from ._graph import open_store

    workspace = find_workspace(None)

    async def run(store):
        docker = await _docker(None, True)
        tags = await unreferenced_tags(docker, store)
        return (tags, []) if dry_run else await clean_tags(docker, tags)

    with open_store(workspace) as store:
        removed, kept = trio.run(run, store)
    if as_json:
        print_json({"dry_run": dry_run, "removed": removed, "kept": kept})
        return
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb} {len(removed)} unused tag(s)")
    for tag in removed:
        console.print(f"  {escape(tag)}")
    if kept:
        console.print(f"kept {len(kept)} tag(s) a container still uses")


def register(app: typer.Typer) -> None:
    app.command("ps")(ps)
    app.command("status", help="The same as `ps`.")(ps)
    app.command("clean")(clean)
