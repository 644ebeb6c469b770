"""How ``up --target chutes`` and ``plan --target chutes`` are shown (the run itself is
the engine's, with its ``ChutesTarget``). Nothing secret is printed."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from ._common import console, err_console, table

__all__ = ["plan_chutes_command", "print_chutes_plan", "render_chutes"]


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
    from ..engine import cache_summary, chutes_options, lookup_keys, plan_chutes, shared_cache

    _settings, copts = chutes_options(workspace)

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
