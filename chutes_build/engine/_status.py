"""What the local target is running for a workspace, as ``chutes-build ps`` shows it.

One listing finds the workspace's containers by label, one inspection reads their
state, start time and restart count, and each running chute is asked ``GET /_ping``
(concurrently, briefly): healthy means it answered as itself, with its own chute name
and deploy key, as ``up`` checks it.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import trio

from ._local_ids import L_CHUTE, L_DEPLOY, L_PORT
from ._local_target import workspace_containers
from ._protocol import DockerEngine

__all__ = ["local_status"]

PING_TIMEOUT = 2.0


def _started(text: str) -> float | None:
    """Seconds since the epoch of Docker's ``StartedAt`` (nanoseconds, ``Z``), or None."""
    if not text or text.startswith("0001-"):
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        base = datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    return base + (float(f"0.{frac}") if frac.isdigit() else 0.0)


async def _ping(client: httpx.AsyncClient, url: str, chute: str, deploy: str) -> str:
    try:
        response = await client.get(f"{url}/_ping")
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return "no answer"
    if response.status_code != 200 or not isinstance(body, dict):
        return f"answers {response.status_code}"
    if body.get("chute") != chute or (deploy and body.get("deploy") != deploy):
        return f"answered as {body.get('chute')!r}"
    return "ok"


def _row(info: Any, detail: dict, now: float) -> dict[str, Any]:
    state = detail.get("State") or {}
    port = info.labels.get(L_PORT, "")
    started = _started(state.get("StartedAt", ""))
    running = state.get("Running", False)
    return {
        "chute": info.labels.get(L_CHUTE, ""),
        "state": state.get("Status", info.state),
        "url": f"http://127.0.0.1:{port}" if port else None,
        "image": info.image,
        "deploy": info.labels.get(L_DEPLOY, ""),
        "health": None,
        "uptime_s": round(now - started, 1) if running and started else None,
        "restarts": detail.get("RestartCount", 0),
        "container": info.name,
    }


async def local_status(docker: DockerEngine, root: str) -> list[dict[str, Any]]:
    """One row per container of the workspace at ``root``, sorted by chute name."""
    found = await workspace_containers(docker, root)
    if not found:
        return []
    details = await docker.inspect_containers([c.id for c in found])
    by_id = {d.get("Id", ""): d for d in details}
    now = time.time()
    rows = [_row(c, next((d for i, d in by_id.items() if i.startswith(c.id)), {}), now)
            for c in found]  # fmt: skip

    async def check(row: dict[str, Any], client: httpx.AsyncClient) -> None:
        if row["state"] != "running" or row["url"] is None:
            row["health"] = "not running"
            return
        row["health"] = await _ping(client, row["url"], row["chute"], row["deploy"])

    async with httpx.AsyncClient(timeout=PING_TIMEOUT, trust_env=False) as client:
        async with trio.open_nursery() as nursery:
            for row in rows:
                nursery.start_soon(check, row, client)
    return sorted(rows, key=lambda r: (r["chute"], r["container"]))
