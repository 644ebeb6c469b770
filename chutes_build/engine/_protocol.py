"""What the engine asks of Docker, as one interface (``DockerEngine``).

Everything chutes-build needs from a Docker engine goes through this seam, as ninja's
``CommandRunner`` or httpx's transports: image queries (which tags exist, list, inspect,
tag, remove), containers (list by label, inspect, run, stop and remove, logs), push and
pull, and builds. Three implementations:

- ``DockerClient`` (``_docker``): the docker CLI, one process per call;
- ``ApiDocker`` (``_docker_api``): the Engine API over the engine's unix socket for
  queries and container lifecycle, the CLI for builds, push and pull;
- ``FakeDocker`` (``chutes_build.engine.testing``): in memory, for unit tests.

Failures raise ``ChutesBuildError`` subclasses (``BuildError`` unless the call says
otherwise) whose message carries the engine's words and whose fix fits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["ContainerInfo", "DockerEngine", "normal_ref", "split_ref"]


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """One container as a listing sees it (``id`` untruncated)."""

    id: str
    name: str
    image: str
    state: str
    labels: Mapping[str, str]


@runtime_checkable
class DockerEngine(Protocol):
    """A Docker engine as chutes-build uses it.

    ``path``, ``mode`` and ``builder`` describe the client that builds (see
    ``DockerClient``); ``build_argv`` and ``env`` are that client's build command and
    environment, which ``run_build`` runs.
    """

    path: str
    mode: str
    builder: str | None

    def build_argv(self) -> list[str]: ...
    def env(self) -> dict[str, str]: ...

    async def image_ids(self, refs: Iterable[str]) -> dict[str, str]:
        """Which of ``refs`` exist: ``{ref: image id}``, in one query."""
        ...

    async def image_tags(self, repos: Sequence[str]) -> set[str]:
        """Every ``repo:tag`` the engine holds in ``repos``."""
        ...

    async def inspect_image(self, ref: str) -> dict[str, Any] | None:
        """The engine's record of ``ref``, or ``None`` when it has none."""
        ...

    async def tag_image(self, source: str, target: str) -> None: ...

    async def remove_images(self, refs: Sequence[str]) -> None:
        """Untag ``refs`` (and remove images left untagged); a ref the engine refuses
        (a container uses it) or lacks stays as it is."""
        ...

    async def push(self, ref: str) -> None: ...
    async def pull(self, ref: str) -> None: ...

    async def containers(
        self, labels: Mapping[str, str | None], keys: Sequence[str] = ()
    ) -> list[ContainerInfo]:
        """Every container carrying all of ``labels`` (``None``: any value), running or
        not. With ``keys``, each one's ``labels`` are exactly those it has of ``keys``."""
        ...

    async def inspect_containers(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The engine's records of ``ids`` (those that are gone are left out)."""
        ...

    async def container_running(self, name: str) -> bool: ...

    async def run_container(
        self,
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
        """Start ``image`` detached as ``name``; the container's id. ``mounts`` maps host
        paths to container paths (read-only); ``gpus`` as ``docker run --gpus``."""
        ...

    async def run_once(
        self, image: str, command: Sequence[str], *, entrypoint: str | None = None
    ) -> str:
        """Run ``command`` in a throw-away container without a network; its stdout."""
        ...

    async def remove_containers(self, names: Sequence[str]) -> None:
        """Stop and remove ``names`` (missing ones are fine)."""
        ...

    async def rename_container(self, name: str, new_name: str) -> None:
        """Give container ``name`` the name ``new_name``."""
        ...

    async def stop_container(self, name: str, timeout: int) -> None:
        """Stop ``name`` gracefully (killed after ``timeout`` s; a missing one is fine)."""
        ...

    async def container_log(self, name: str, lines: int) -> str:
        """The last ``lines`` lines of the container's output ("" when it is gone)."""
        ...

    async def stream_log(
        self,
        name: str,
        on_output: Callable[[bytes], None],
        *,
        tail: int | None = None,
        follow: bool = False,
    ) -> None:
        """Give what the container wrote (its last ``tail`` lines when given), stdout and
        stderr interleaved, to ``on_output`` chunk by chunk; with ``follow``, until it
        stops. Raises ``DeployError`` when the log cannot be read."""
        ...

    async def run_build(self, args: Sequence[str], on_line: Callable[[str], None]) -> int:
        """Run one build (``build_argv() + args``); each output line to ``on_line``; the
        exit status."""
        ...


def normal_ref(ref: str) -> str:
    """The form the engine lists a tag in: ``repo:tag`` without docker.io/library/."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


def split_ref(ref: str) -> tuple[str, str]:
    """``(repository, tag)`` of ``repo[:tag]`` (a registry's ``host:port`` kept whole)."""
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return repo, tag
