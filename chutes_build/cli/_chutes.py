"""``up --target chutes`` and ``plan --target chutes``, and the shared cache around runs.

Settings are read here, once: the platform's (``CHUTES_CONFIG_PATH``,
``CHUTES_API_URL``, ``CHUTES_API_KEY``) and the shared cache's (``remote_cache``
in ``[tool.chutes-build]`` or ``CHUTES_BUILD_REMOTE_CACHE``, with the team key
from ``CHUTES_BUILD_CACHE_KEY`` only). Nothing secret is printed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from rich.markup import escape

from ._common import console, err_console, table

__all__ = [
    "plan_chutes_command",
    "print_chutes_plan",
    "render_chutes",
    "run_chutes",
    "shared_cache",
]


@contextlib.asynccontextmanager
async def shared_cache(workspace) -> AsyncIterator[Any]:
    """The workspace's remote cache client (or None when none is configured)."""
    if not (workspace.config.remote_cache or os.environ.get("CHUTES_BUILD_REMOTE_CACHE")):
        yield None  # without one, the platform package (httpx) is not even imported
        return
    from ..cache import remote_cache_from_env

    remote = remote_cache_from_env(os.environ, url=workspace.config.remote_cache)
    if remote is None:
        yield None
        return
    async with remote:
        yield remote


def cache_summary(remote, pulled, pushed) -> dict[str, Any] | None:
    if remote is None:
        return None
    s = remote.stats
    return {"url": remote.url, "pulled": pulled.pulled, "pushed": pushed.pushed,
            "hits": s.hits, "misses": s.misses, "rejected": s.rejected, "errors": s.errors,
            "notes": list(s.notes[-5:])}  # fmt: skip


def _options(workspace, accept_fee: bool = False, public: bool = False, force: bool = False):
    from ..engine import ChutesOptions
    from ..platform import load_settings

    settings = load_settings(os.environ)
    return settings, ChutesOptions(settings.base_url, accept_fee=accept_fee, public=public,
                                   tag_from_key=workspace.config.tag_from_key,
                                   username=settings.username, force=force)  # fmt: skip


def _dry_run(session, options) -> dict[str, Any]:
    """What ``up --target chutes`` would build and deploy; nothing is sent or recorded."""
    from ..engine import DryRunStore, plan_chutes

    _settings, copts = _options(session.workspace, options.accept_fee, options.public,
                                options.rerun)  # fmt: skip
    planned = plan_chutes(session.graph, DryRunStore(session.store), copts)
    would = [{"node": f"image:{r['key']}", "label": f"remote build {r['image']}"}
             for r in planned["images"] if r["action"] != "cached"]  # fmt: skip
    would += [{"node": f"deploy:{r['key']}", "label": f"deploy {r['chute']}"}
              for r in planned["chutes"] if r["action"] != "unchanged"]  # fmt: skip
    for rows in (planned["images"], planned["chutes"]):
        for row in rows:
            row["state"] = f"would {row['action']}" if row["action"] not in (
                "cached", "unchanged") else row["action"]  # fmt: skip
    return {"dry_run": True, "failed": [], "would_run": would, "images": planned["images"],
            "chutes": planned["chutes"], "logos": planned["logos"],
            "api_url": copts.api_url}  # fmt: skip


async def run_chutes(session, options, as_json: bool) -> dict[str, Any]:
    """Build the changed images on the platform and deploy the changed chutes
    (``options``: a ``RunOptions``; ``--dry-run``: only what would run)."""
    if options.dry_run:
        return _dry_run(session, options)
    from ..cache import RecordingStore, SharedStats, pull, push
    from ..engine import (
        BuildContext,
        Work,
        lookup_keys,
        make_progress,
        plan_chutes,
        run_work,
        schedule_chutes,
    )
    from ..platform import ChutesClient

    settings, copts = _options(session.workspace, options.accept_fee, options.public,
                               options.rerun)  # fmt: skip
    settings.require_credentials()
    store = RecordingStore(session.store)
    pushed = SharedStats()
    async with shared_cache(session.workspace) as remote, ChutesClient(settings) as client:
        pulled = await pull(remote, session.store, lookup_keys(session.graph, copts))
        planned = plan_chutes(session.graph, store, copts)
        ctx = BuildContext(session.graph, store, docker=None)
        work = Work()
        schedule_chutes(ctx, client, copts, work, planned)
        with make_progress(work.labels, as_json, console) as progress:
            ctx.emit_line = progress.on_line
            outcome = await run_work(work, jobs=options.jobs, keep_going=options.keep_going,
                                     on_event=progress.on_event)  # fmt: skip
        pushed = await push(remote, session.store, store.written)
        warm_failed = []
        if options.warm:
            warm_failed = await warm_changed(client, planned["chutes"], as_json)
    failed = dict(outcome.failed) if outcome is not None else {}
    marks = (("logo", "logos", "digest"), ("image", "images", "key"), ("deploy", "chutes", "key"))
    for kind, rows, field in marks:
        for row in planned[rows]:
            if row.get("state") is None:
                row["state"] = "failed" if f"{kind}:{row[field]}" in failed else "skipped"
    return {
        "failed": [
            {"node": n, "label": work.labels.get(n, n), "error": str(e)} for n, e in failed.items()
        ] + warm_failed,  # fmt: skip
        "images": planned["images"],
        "chutes": planned["chutes"],
        "logos": planned["logos"],
        "api_url": copts.api_url,
        "remote_cache": cache_summary(remote, pulled, pushed),
    }


async def warm_changed(client, rows: list[dict[str, Any]], as_json: bool) -> list[dict]:
    """``--warm``: warm every chute this run created or updated, in parallel; note on each
    row when it was hot; return the failures (they make the run fail)."""
    import json
    import sys

    from ..platform import warm_chutes

    changed = {row["chute"]: row for row in rows if row.get("state") in ("created", "updated")}

    def on_event(chute: str, event: dict) -> None:
        node = f"warm:{changed[chute]['key']}"
        if as_json:
            sys.stdout.write(json.dumps({"event": "warm", "node": node, "label": f"warm {chute}",
                                         **event}) + "\n")  # fmt: skip
            sys.stdout.flush()
        elif event.get("status") == "hot":
            console.print(f"{escape(chute)} is hot")

    results = await warm_chutes(client, list(changed), on_event)
    failures = []
    for chute, result in results.items():
        changed[chute]["warm"] = result
        if result["state"] != "hot":
            failures.append({"node": f"warm:{changed[chute]['key']}", "label": f"warm {chute}",
                             "error": result["error"]})  # fmt: skip
    return failures


def render_chutes(summary: dict[str, Any]) -> None:
    """The human form of ``up --target chutes``'s summary."""
    for failure in summary["failed"]:
        err_console.print(f"[red]failed:[/red] {escape(failure['label'])}\n"
                          f"{escape(failure['error'])}", soft_wrap=True)  # fmt: skip
    images = table("image", "state", "platform id", "chutes")
    for row in summary["images"]:
        images.add_row(escape(row["image"]), str(row["state"]), str(row.get("image_id") or "-"),
                       escape(", ".join(row["chutes"])))  # fmt: skip
    console.print(images)
    chutes = table("chute", "state", "chute id", "version", "warm")
    for row in summary["chutes"]:
        warm = row.get("warm") or {}
        hot = f"hot after {warm['seconds']:.1f} s" if warm.get("state") == "hot" else "-"
        hot = "failed" if warm.get("error") else hot
        chutes.add_row(escape(row["chute"]), str(row["state"]), str(row.get("chute_id") or "-"),
                       str(row.get("version") or "-"), hot)  # fmt: skip
    console.print(chutes)
    _render_cache(summary.get("remote_cache"))


def _render_cache(info: dict[str, Any] | None) -> None:
    if info:
        console.print(f"shared cache {escape(info['url'])}: {info['pulled']} result(s) fetched, "
                      f"{info['pushed']} stored, {info['rejected']} rejected, "
                      f"{info['errors']} error(s)")  # fmt: skip


def plan_chutes_command(workspace, store, graph) -> dict[str, Any]:
    """What ``up --target chutes`` would do (the shared cache is read, nothing is sent
    to the platform)."""
    import trio

    from ..cache import SharedStats, pull
    from ..engine import lookup_keys, plan_chutes

    _settings, copts = _options(workspace)

    async def main():
        async with shared_cache(workspace) as remote:
            pulled = await pull(remote, store, lookup_keys(graph, copts))
            return plan_chutes(graph, store, copts), cache_summary(remote, pulled, SharedStats())

    planned, cache = trio.run(main)
    fees = [r["fee"] for r in planned["chutes"] if r["action"] == "create" and r["fee"]]
    return {"api_url": copts.api_url, "images": planned["images"], "chutes": planned["chutes"],
            "logos": planned["logos"],
            "summary": {"images_to_build": sum(r["action"] == "build" for r in planned["images"]),
                        "chutes_to_create": sum(r["action"] == "create" for r in planned["chutes"]),
                        "chutes_to_update": sum(r["action"] == "update" for r in planned["chutes"]),
                        "deployment_fees": round(sum(fees), 4)},
            "remote_cache": cache}  # fmt: skip


def print_chutes_plan(result: dict[str, Any]) -> None:
    rows = table("kind", "name", "action", "fee", "why")
    for row in result["images"]:
        if row["action"] != "cached":
            reason = escape(row["reason"])
            rows.add_row("image", escape(row["image"]), "build remotely", "", reason)
    for row in result.get("logos", ()):
        if row["action"] == "upload":
            rows.add_row("logo", escape(row["path"]), "upload", "", "not uploaded to this API yet")
    for row in result["chutes"]:
        if row["action"] != "unchanged":
            fee = f"${row['fee']:.2f}" if row.get("fee") else ""
            rows.add_row("chute", escape(row["chute"]), row["action"], fee, escape(row["reason"]))
    console.print(rows)
    s = result["summary"]
    console.print(f"target chutes ({escape(result['api_url'])}): {s['images_to_build']} image(s) "
                  f"to build, {s['chutes_to_create']} chute(s) to create, "
                  f"{s['chutes_to_update']} to update; deployment fees for new chutes: "
                  f"${s['deployment_fees']:.2f} (pass --accept-fee to `up`)")  # fmt: skip
    _render_cache(result.get("remote_cache"))
