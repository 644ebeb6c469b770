"""A container's log, replayed and (with ``follow``) followed, as ``docker logs`` gives it.

``chutes-build logs CHUTE`` passes the output on as it arrives, stdout and stderr of the
container interleaved in one stream; cancelling (Ctrl-C) ends the ``docker logs``
process with the call.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import trio

from ..core import DeployError
from ._local_ids import L_CHUTE
from ._local_target import workspace_containers

__all__ = ["chute_containers", "stream_container_log"]


async def chute_containers(docker, root: str) -> dict[str, list]:
    """``{chute name: its containers}`` for the workspace at ``root``, running ones first
    (found by their labels, one ``docker ps``)."""
    found: dict[str, list] = {}
    for info in await workspace_containers(docker, root):
        found.setdefault(info.labels.get(L_CHUTE, ""), []).append(info)
    for infos in found.values():
        infos.sort(key=lambda info: info.state != "running")
    return found


async def stream_container_log(
    docker,
    name: str,
    on_output: Callable[[bytes], None],
    *,
    tail: int | None = None,
    follow: bool = False,
) -> None:
    """Give every chunk container ``name`` wrote (its last ``tail`` lines when given) to
    ``on_output``; with ``follow``, keep going until the container stops or the call is
    cancelled. Raises :class:`DeployError` when docker cannot read the log."""
    argv = [docker.path, "logs", *(["--follow"] if follow else [])]
    argv += [*(["--tail", str(tail)] if tail is not None else []), name]
    process = await trio.lowlevel.open_process(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env=docker.env(),
    )  # fmt: skip
    last = b""
    try:
        async for chunk in process.stdout:
            last = (last + chunk)[-2000:]
            on_output(chunk)
        await process.wait()
    finally:
        if process.returncode is None:  # cancelled (Ctrl-C): end `docker logs` too
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
    if process.returncode != 0:
        raise DeployError(
            f"`docker logs {name}` failed (exit {process.returncode}): "
            f"{last.decode(errors='replace').strip()}",
            fix="check the engine with `docker info`; `chutes-build ps` lists the chutes",
        )
