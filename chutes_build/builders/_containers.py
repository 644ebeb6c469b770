"""Containers for the local deploy target: run, list by label, remove, wait for HTTP.

Containers run with ``--network=host`` (the engine here has no bridge network), so
a chute's server answers on a 127.0.0.1 port. Each helper is one docker command.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from .._errors import DeployError
from ._docker import DockerClient, docker_command

if TYPE_CHECKING:  # httpx is imported when first needed: a no-op `up` never waits on HTTP
    import httpx

__all__ = [
    "ContainerInfo",
    "list_containers",
    "remove_containers",
    "run_container",
    "wait_http",
]


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """One container as ``docker ps`` sees it."""

    id: str
    name: str
    image: str
    state: str
    labels: Mapping[str, str]


async def run_container(
    docker: DockerClient,
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
    args = ["run", "--detach", "--name", name, f"--network={network}"]
    if gpus is not None:
        args += ["--gpus", gpus]
    for key, value in sorted((labels or {}).items()):
        args += ["--label", f"{key}={value}"]
    for key, value in sorted((env or {}).items()):
        args += ["--env", f"{key}={value}"]
    for host, inside in sorted((mounts or {}).items()):
        args += ["--mount", f"type=bind,source={host},target={inside},readonly"]
    out = await docker_command(docker, [*args, image, *command], error=DeployError)
    return out.strip()


def _parse_labels(text: str) -> dict[str, str]:
    # `docker ps` joins labels with commas; a value holding a comma is split wrongly,
    # so keep label values comma-free (deploy keys and names are).
    labels = {}
    for item in text.split(",") if text else ():
        key, _, value = item.partition("=")
        labels[key] = value
    return labels


async def list_containers(
    docker: DockerClient, labels: Mapping[str, str | None]
) -> list[ContainerInfo]:
    """Every container (running or not) carrying all of ``labels``, in one call.

    A label mapped to ``None`` matches any value.
    """
    args = ["ps", "--all", "--no-trunc", "--format", "{{json .}}"]
    for key, value in sorted(labels.items()):
        args += ["--filter", f"label={key}" if value is None else f"label={key}={value}"]
    out = await docker_command(docker, args, error=DeployError)
    found = []
    for line in out.splitlines():
        row = json.loads(line)
        found.append(
            ContainerInfo(
                id=row["ID"],
                name=row["Names"],
                image=row["Image"],
                state=row["State"],
                labels=_parse_labels(row.get("Labels", "")),
            )
        )
    return found


async def remove_containers(docker: DockerClient, names: Sequence[str]) -> None:
    """Stop and remove the named containers in one call (missing ones are fine)."""
    if not names:
        return
    try:
        await docker_command(docker, ["rm", "--force", *names], error=DeployError)
    except DeployError as exc:
        if "No such container" not in str(exc):
            raise


async def wait_http(
    url: str,
    *,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
    interval: float = 0.05,
    max_interval: float = 1.0,
    alive: Callable[[], Awaitable[bool]] | None = None,
) -> httpx.Response:
    """Poll ``url`` with GET until it answers with a status below 500.

    Waits between tries, doubling the pause up to ``max_interval``; raises
    :class:`DeployError` with the last error after ``timeout`` seconds, or at once
    when ``alive`` (asked after each failed try) says the server has exited.
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
                    if response.status_code < 500:
                        return response
                    last = f"HTTP {response.status_code}"
                if alive is not None and not await alive():
                    raise DeployError(f"{url} did not answer: the container exited before it did")
                await trio.sleep(interval)
                interval = min(interval * 2, max_interval)
    raise DeployError(
        f"{url} did not answer within {timeout:g}s (last: {last})",
        fix="check the container's log (`docker logs NAME`) for a crash or a wrong port",
    )
