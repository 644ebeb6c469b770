"""``history CHUTE`` and ``rollback CHUTE [--to KEY]``: the chutes target's recorded deploys.

The history lives in the workspace's cache (see ``platform/_history.py``), per API
URL; a rollback posts a recorded deploy body again, so the platform runs an image
it already built: nothing is rebuilt and no image is uploaded.
"""

from __future__ import annotations

import datetime
import os

import typer
from rich.markup import escape

from ._common import JSON, Col, console, print_json, table
from ._platform import CONFIG


def _store_and_api(config_path: str | None):
    from ..platform import load_settings
    from ..workspace import find_workspace
    from ._graph import open_store

    settings = load_settings(os.environ, path=config_path)
    return open_store(find_workspace(None)), settings


def _row(entry) -> dict:
    when = datetime.datetime.fromtimestamp(entry.time, datetime.UTC)
    return {
        "key": entry.key,
        "chute": entry.chute,
        "chute_id": entry.chute_id,
        "version": entry.version,
        "image": entry.image,
        "image_id": entry.image_id,
        "code_digest": entry.code_digest,
        "time": when.isoformat(timespec="seconds"),
        "who": entry.who,
        "rollback_of": entry.rollback_of,
    }


def history(
    chute: str = typer.Argument(..., help="The chute's name or platform id."),
    config_path: str | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Each recorded deploy of a chute by `up --target chutes` (newest last)."""
    from ..platform import load_history

    store, settings = _store_and_api(config_path)
    rows = [_row(e) for e in load_history(store, settings.base_url, chute).deploys]
    if as_json:
        print_json({"chute": chute, "api_url": settings.base_url, "deploys": rows})
        return
    if not rows:
        console.print(f"no deploy of {escape(chute)} is recorded for {settings.base_url}")
        return
    # Keys and times never fold; the code digest, then who deployed, go first at 80 columns.
    shown = table(Col("deploy key", fold=False), Col("version", fold=False), "image",
                  Col("code", fold=False, drop=2), Col("time (UTC)", fold=False),
                  Col("who", drop=1), "note")  # fmt: skip
    for row in rows:
        note = f"rollback to {row['rollback_of'][:8]}" if row["rollback_of"] else ""
        shown.add_row(
            row["key"][:12],
            row["version"][:8],
            escape(row["image"]),
            row["code_digest"][:12],
            row["time"],
            escape(row["who"]),
            note,
        )
    console.print(shown)


def rollback(
    chute: str = typer.Argument(..., help="The chute's name or platform id."),
    to: str | None = typer.Option(
        None, "--to", help="A deploy key or version (prefix); default: the previous version."
    ),
    accept_fee: bool = typer.Option(False, "--accept-fee", help="Accept a deployment fee."),
    config_path: str | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Redeploy a recorded version of a chute, without a rebuild or an image upload."""
    import trio

    from ..engine import record_rollback
    from ..platform import ChutesClient, find_deploy, load_history
    from ..platform import rollback as post_again

    store, settings = _store_and_api(config_path)
    settings.require_credentials()
    entry = find_deploy(load_history(store, settings.base_url, chute), chute, to)

    async def main() -> dict:
        async with ChutesClient(settings) as client:
            return await post_again(client, store, settings.base_url, entry, accept_fee)

    result = trio.run(main)
    history = load_history(store, settings.base_url, chute).deploys
    others = {d.remote_key for d in history if d.version != result["version"] and d.remote_key}
    record_rollback(store, settings.base_url, result, entry.remote_key, sorted(others))
    if as_json:
        print_json(result)
    elif result["state"] == "unchanged":
        console.print(f"{escape(entry.chute)} already runs version {result['version']}")
    else:
        console.print(
            f"rolled {escape(entry.chute)} back to version {result['version']} "
            f"(deploy {entry.key[:16]}, image {escape(entry.image)})"
        )


def register(app: typer.Typer) -> None:
    app.command("history")(history)
    app.command("rollback")(rollback)
