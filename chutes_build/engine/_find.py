"""Finding a docker client that can build with BuildKit.

Two clients may sit on ``PATH`` and the first one need not build: a 28.x client
without the buildx plugin answers ``DOCKER_BUILDKIT=1 docker build`` with "BuildKit
is enabled but the buildx component is missing or broken", and only at build time.
So a client is chosen by what it can do, not by ``PATH`` order:

1. ``docker buildx version`` succeeds: builds go through ``docker buildx build
   --load`` (``--builder NAME`` selects any buildx builder, remote ones included);
2. else a tiny real build (``FROM scratch`` piped on stdin, no context) succeeds with
   ``DOCKER_BUILDKIT=1``: builds go through ``docker build`` and the engine's
   embedded BuildKit.

The probe result is cached per process. The caller passes the user's override
(``$CHUTES_BUILD_DOCKER``, read at the entry point).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

import trio

from ..core import BuildError
from ._docker import BUILDKIT, BUILDX, ENGINE_FIX, DockerClient

__all__ = ["find_docker"]

_FALLBACK_CLIENTS = ("/usr/bin/docker",)
_CLIENT_FIX = (
    "install a client that builds with BuildKit: Debian's docker.io (/usr/bin/docker) or "
    "the buildx plugin (https://docs.docker.com/go/buildx/), or point $CHUTES_BUILD_DOCKER "
    "at one"
)

_probe_cache: dict[tuple[str, str | None], DockerClient | str] = {}


def _candidates(override: str | None, search_path: str | None) -> list[str]:
    if override:
        found = shutil.which(override, path=search_path)
        if found is None:
            raise BuildError(
                f"the docker client {override!r} named by $CHUTES_BUILD_DOCKER was not found",
                fix="set $CHUTES_BUILD_DOCKER to the path of a docker client, or unset it",
            )
        return [found]
    seen: list[str] = []
    dirs = (search_path if search_path is not None else os.environ.get("PATH", "")).split(
        os.pathsep
    )
    for directory in dirs:
        path = shutil.which("docker", path=directory) if directory else None
        if path and os.path.realpath(path) not in map(os.path.realpath, seen):
            seen.append(path)
    for path in _FALLBACK_CLIENTS:
        if os.access(path, os.X_OK) and os.path.realpath(path) not in map(os.path.realpath, seen):
            seen.append(path)
    return seen


async def _quiet(argv: Sequence[str], stdin: bytes = b"") -> tuple[int, str]:
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    proc = await trio.run_process(
        list(argv), stdin=stdin, capture_stdout=True, stderr=subprocess.STDOUT,
        check=False, env=env,
    )  # fmt: skip
    return proc.returncode, proc.stdout.decode(errors="replace").strip()


async def _probe(path: str, builder: str | None) -> DockerClient | str:
    """The client's build mode, or why it cannot build (one line)."""
    code, _ = await _quiet([path, "buildx", "version"])
    if code == 0:
        return DockerClient(path, BUILDX, builder)
    code, out = await _quiet([path, "build", "--quiet", "-"], stdin=b"FROM scratch\n")
    if code == 0:
        return DockerClient(path, BUILDKIT, None)
    return out.splitlines()[0] if out else f"exit status {code}"


async def _engine_error(path: str) -> str | None:
    code, out = await _quiet([path, "version", "--format", "{{.Server.Version}}"])
    if code == 0:
        return None
    return out.splitlines()[-1] if out else f"exit status {code}"


async def find_docker(
    override: str | None = None, *, builder: str | None = None, search_path: str | None = None
) -> DockerClient:
    """The first docker client that can build with BuildKit.

    ``override`` (the user's ``$CHUTES_BUILD_DOCKER``) is the only candidate when
    given; otherwise every ``docker`` on ``search_path`` (default ``$PATH``), then
    ``/usr/bin/docker``. ``builder`` is a buildx builder name (buildx clients only).
    Raises :class:`BuildError` with a fix when no engine answers or no client builds.
    """
    candidates = _candidates(override, search_path)
    if not candidates:
        raise BuildError("no docker client was found on PATH", fix=_CLIENT_FIX)
    failures = []
    for path in candidates:
        key = (path, builder)
        if key not in _probe_cache:
            _probe_cache[key] = await _probe(path, builder)
        found = _probe_cache[key]
        if isinstance(found, DockerClient):
            return found
        failures.append(f"{path}: {found}")
    engine = await _engine_error(candidates[-1])
    for key in [(path, builder) for path in candidates]:
        del _probe_cache[key]  # a later call may find the engine started
    if engine is not None:
        raise BuildError(f"the Docker engine does not answer: {engine}", fix=ENGINE_FIX)
    raise BuildError(
        "no docker client here can build with BuildKit; tried " + "; ".join(failures),
        fix=_CLIENT_FIX,
    )


