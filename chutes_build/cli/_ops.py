"""``ps`` (alias ``status``): what the local target runs for this workspace, per chute;
``clean``: the engine's tags no cache entry uses, removed."""

from __future__ import annotations

import typer
from rich.markup import escape

from ..workspace import find_workspace
from ._common import JSON, Col, console, print_json, table


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
    from ..engine import open_docker as _docker
    from ._graph import open_store

    workspace = find_workspace(None)

    async def run(store):
        return await local_status(await _docker(None, True, store), workspace.root)

    with open_store(workspace) as store:
        rows = trio.run(run, store)
    if as_json:
        print_json({"chutes": rows})
        return
    if not rows:
        console.print("no chute containers of this workspace (start them with `chutes-build up`)")
        return
    # The chute name folds at its separators; a URL, a state or a key cut in two cannot
    # be read or pasted, so they never fold: the image goes first, then the deploy key.
    listing = table(Col("chute"), *(Col(h, fold=False) for h in ("state", "url", "health")),
                    Col("up", fold=False), Col("restarts", fold=False, justify="right"),
                    Col("image", drop=2), Col("key", fold=False, drop=1))  # fmt: skip
    for row in rows:
        listing.add_row(escape(row["chute"]), row["state"], row["url"] or "-",
                        escape(row["health"] or "-"), _uptime(row["uptime_s"]),
                        str(row["restarts"]), escape(row["image"]),
                        row["deploy"][:12] or "-")  # fmt: skip
    console.print(listing)


DRY_RUN = typer.Option(False, "--dry-run", help="List what would be removed; remove nothing.")


def clean(dry_run: bool = DRY_RUN, as_json: bool = JSON) -> None:
    """Remove the engine's layer and runtime tags that no entry of this cache uses."""
    import trio

    from ..engine import clean_tags, unreferenced_tags
    from ..engine import open_docker as _docker
    from ._graph import open_store

    workspace = find_workspace(None)

    async def run(store):
        docker = await _docker(None, True, store)
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
