"""Containers for the local deploy target: run, list by label, remove, wait for HTTP.

Containers run with ``--network=host`` (the engine here has no bridge network), so
a chute's server answers on a 127.0.0.1 port. Each helper is one call of the engine's
``DockerEngine`` (one docker command, or one request to its socket).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import trio

from ..core import DeployError
from ._protocol import ContainerInfo, DockerEngine

if TYPE_CHECKING:  # httpx is imported when first needed: a no-op `up` never waits on HTTP
    import httpx

__all__ = [
    "ContainerInfo",
    "container_log",
    "list_containers",
    "remove_containers",
    "run_container",
    "wait_http",
]


async def run_container(
    docker: DockerEngine,
    image: str,
    *,
    name: str,
    command: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    mounts: Mapping[str, str] | None = None,
    network: str = "host",
    gpus: str | None = None,
) -> str:
    """Start ``image`` detached as ``name``; return the container id.

    ``mounts`` maps a host path to a container path, mounted read-only; ``gpus`` is
    passed as ``--gpus`` (``"all"``, ``"device=0"``...).
    """
    return await docker.run_container(
        image, name=name, command=command, labels=labels, env=env, mounts=mounts,
        network=network, gpus=gpus,
    )  # fmt: skip


async def list_containers(
    docker: DockerEngine, labels: Mapping[str, str | None], keys: Sequence[str] = ()
) -> list[ContainerInfo]:
    """Every container (running or not) carrying all of ``labels``, in one call.

    A label mapped to ``None`` matches any value. With ``keys``, each container's
    ``labels`` are exactly those labels (the ones it has), whatever their values hold:
    commas, ``=``, any script. Without, all of them (through the CLI, split at commas).
    """
    return await docker.containers(labels, keys)


async def container_log(docker: DockerEngine, name: str, lines: int) -> str:
    """The last ``lines`` lines a container wrote, stdout and stderr interleaved as
    ``docker logs`` replays them ("" when the container is gone)."""
    return await docker.container_log(name, lines)


async def remove_containers(docker: DockerEngine, names: Sequence[str]) -> None:
    """Stop and remove the named containers in one call (missing ones are fine)."""
    await docker.remove_containers(names)


async def wait_http(
    url: str,
    *,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
    interval: float = 0.05,
    max_interval: float = 1.0,
    alive: Callable[[], Awaitable[bool]] | None = None,
    expect: Callable[[httpx.Response], str | None] | None = None,
) -> httpx.Response:
    """Poll ``url`` with GET until it answers with a status below 500.

    Waits between tries, doubling the pause up to ``max_interval``; raises
    :class:`DeployError` with the last error after ``timeout`` seconds, or at once
    when ``alive`` (asked after each failed try) says the server has exited. When
    given, ``expect`` checks that the answer comes from the right server: it returns
    why not (then polling goes on, and that reason is the error's evidence) or ``None``.
    """
    import httpx

    last = "no answer yet"
    async with httpx.AsyncClient(transport=transport, timeout=max(timeout, 1.0)) as client:
        with trio.move_on_after(timeout):
            while True:
                try:
                    response = await client.get(url)
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    wrong = _wrong(response, expect)
                    if wrong is None:
                        return response
                    last = wrong
                if alive is not None and not await alive():
                    raise DeployError(
                        f"{url} did not answer: the container exited before it did (last: {last})"
                    )
                await trio.sleep(interval)
                interval = min(interval * 2, max_interval)
    raise DeployError(
        f"{url} did not answer within {timeout:g}s (last: {last})",
        fix="check the container's log (`docker logs NAME`) for a crash or a wrong port",
    )


def _wrong(response: httpx.Response, expect) -> str | None:
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    return None if expect is None else expect(response)
