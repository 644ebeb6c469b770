"""Containers for the local deploy target: run, list by label, remove, wait for HTTP.

Containers run with ``--network=host`` (the engine here has no bridge network), so
a chute's server answers on a 127.0.0.1 port. Each helper is one docker command.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from ..core import DeployError
from ._docker import DockerClient, docker_command

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
    # `docker ps` joins labels with commas, so a value holding a comma is split wrongly
    # here; the labels asked for by name (``keys``) are read exactly instead.
    labels = {}
    for item in text.split(",") if text else ():
        key, _, value = item.partition("=")
        labels[key] = value
    return labels


async def list_containers(
    docker: DockerClient, labels: Mapping[str, str | None], keys: Sequence[str] = ()
) -> list[ContainerInfo]:
    """Every container (running or not) carrying all of ``labels``, in one call.

    A label mapped to ``None`` matches any value. With ``keys``, each container's
    ``labels`` are exactly those labels (the ones it has), whatever their values hold:
    commas, ``=``, any script. Without, all of them, split at commas.
    """
    fmt = "\t".join(["{{json .}}", *(f'{{{{json (.Label "{key}")}}}}' for key in keys)])
    args = ["ps", "--all", "--no-trunc", "--format", fmt]
    for key, value in sorted(labels.items()):
        args += ["--filter", f"label={key}" if value is None else f"label={key}={value}"]
    out = await docker_command(docker, args, error=DeployError)
    return [_container(line, keys) for line in out.splitlines() if line.strip()]


def _container(line: str, keys: Sequence[str]) -> ContainerInfo:
    row, *exact = (json.loads(part) for part in line.split("\t"))
    labels = _parse_labels(row.get("Labels", ""))
    if keys:  # exactly the labels asked for (one a container lacks reads as "")
        labels = {key: value for key, value in zip(keys, exact, strict=True) if value}
    return ContainerInfo(
        id=row["ID"], name=row["Names"], image=row["Image"], state=row["State"], labels=labels
    )


async def container_log(docker: DockerClient, name: str, lines: int) -> str:
    """The last ``lines`` lines a container wrote, stdout and stderr interleaved as
    ``docker logs`` replays them ("" when the container is gone)."""
    proc = await trio.run_process(
        [docker.path, "logs", "--tail", str(lines), name], capture_stdout=True,
        stderr=subprocess.STDOUT, check=False, env=docker.env(), stdin=b"",
    )  # fmt: skip
    return proc.stdout.decode(errors="replace") if proc.returncode == 0 else ""


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
