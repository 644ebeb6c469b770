"""A container's log, replayed and (with ``follow``) followed, as ``docker logs`` gives it.

``chutes-build logs CHUTE`` passes the output on as it arrives, stdout and stderr of the
container interleaved in one stream; cancelling (Ctrl-C) ends the read with the call
(and the ``docker logs`` process, where the CLI reads it).
"""

from __future__ import annotations

from collections.abc import Callable

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
    await docker.stream_log(name, on_output, tail=tail, follow=follow)
