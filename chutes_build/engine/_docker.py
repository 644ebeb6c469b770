"""Finding a docker client that can build with BuildKit, and short docker commands.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import trio

from ..core import BuildError

__all__ = ["DockerClient", "docker_command", "engine_fix", "existing_images", "find_docker"]

BUILDX = "buildx"
BUILDKIT = "buildkit"
_FALLBACK_CLIENTS = ("/usr/bin/docker",)
_ENGINE_FIX = "start the engine with scripts/docker-up (it installs Debian's docker.io if needed)"
_CLIENT_FIX = (
    "install a client that builds with BuildKit: Debian's docker.io (/usr/bin/docker) or "
    "the buildx plugin (https://docs.docker.com/go/buildx/), or point $CHUTES_BUILD_DOCKER "
    "at one"
)

#: What the client prints when no engine answers on its socket (or ``$DOCKER_HOST``),
#: in any case: ``docker build`` says "failed to dial gRPC: cannot connect to...".
_UNREACHABLE = (
    "Cannot connect to the Docker daemon",
    "Is the docker daemon running",
    "error during connect",
)
#: (what the engine said, the fix that fits it); the first match wins.
_FIXES = (
    (
        "permission denied while trying to connect",
        "run as a user who may use the engine's socket (root, or a member of the docker group)",
    ),
    (
        "no space left on device",
        "free disk space (`docker system prune` removes unused images and build cache)",
    ),
    (
        "No such image",
        "the image is gone from the engine: run `chutes-build up` again to rebuild it, or "
        "`docker image ls` to see what the engine holds",
    ),
    ("No such container", "the container is gone: `docker ps -a` lists the ones there are"),
    (
        "is already in use by container",
        "remove the container holding that name (`docker rm -f NAME`), then run again",
    ),
)

_probe_cache: dict[tuple[str, str | None], DockerClient | str] = {}


@dataclass(frozen=True, slots=True)
class DockerClient:
    """A docker client known to build with BuildKit.

    ``mode`` is ``"buildx"`` (``docker buildx build --load``) or ``"buildkit"``
    (``docker build`` with ``DOCKER_BUILDKIT=1``); ``builder`` names a buildx builder.
    """

    path: str
    mode: str
    builder: str | None = None

    def build_argv(self) -> list[str]:
        """The argv prefix of a build: options and the context follow."""
        if self.mode == BUILDX:
            argv = [self.path, "buildx", "build", "--load"]
            if self.builder:
                argv += ["--builder", self.builder]
            return argv
        return [self.path, "build"]

    def env(self) -> dict[str, str]:
        """The environment for this client's processes."""
        return {**os.environ, "DOCKER_BUILDKIT": "1"}


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
        raise BuildError(f"the Docker engine does not answer: {engine}", fix=_ENGINE_FIX)
    raise BuildError(
        "no docker client here can build with BuildKit; tried " + "; ".join(failures),
        fix=_CLIENT_FIX,
    )


async def docker_command(
    docker: DockerClient, args: Sequence[str], *, error: type[Exception] = BuildError
) -> str:
    """Run ``docker ARGS`` to completion and return its stdout.

    A non-zero exit raises ``error`` (a ``ChutesBuildError`` class) with stderr.
    Cancellation terminates the process (trio's default).
    """
    proc = await trio.run_process(
        [docker.path, *args], capture_stdout=True, capture_stderr=True, check=False,
        env=docker.env(), stdin=b"",
    )  # fmt: skip
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip()
        raise error(
            f"`docker {' '.join(args[:2])}` failed (exit {proc.returncode}): {detail}",
            fix=_failure_fix(detail, args),
        )
    return proc.stdout.decode(errors="replace")


def engine_fix(output: str) -> str | None:
    """The fix that what docker printed calls for: start the engine only when none
    answered; else the fix that fits the engine's message; ``None`` when none fits."""
    lowered = output.lower()
    if any(text.lower() in lowered for text in _UNREACHABLE):
        return _ENGINE_FIX
    return next((fix for text, fix in _FIXES if text in output), None)


def _failure_fix(detail: str, args: Sequence[str]) -> str:
    return engine_fix(detail) or (
        f"the engine's message above says what failed; `docker {' '.join(args[:2])}` reproduces it"
    )


def _normal_ref(ref: str) -> str:
    """The form ``docker image ls`` prints: ``repo:tag`` without docker.io/library/."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    if "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


async def existing_images(docker: DockerClient, refs: Iterable[str]) -> dict[str, str]:
    """Which of ``refs`` (``repo:tag``) exist in the engine: ``{ref: image id}``.

    One ``docker image ls`` call for all of them, filtered by their repositories,
    whatever their number.
    """
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        wanted.setdefault(_normal_ref(ref), []).append(ref)
    if not wanted:
        return {}
    repos = sorted({name.rsplit(":", 1)[0] for name in wanted})
    args = ["image", "ls", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}}\t{{.ID}}"]
    for repo in repos:
        args += ["--filter", f"reference={repo}"]
    out = await docker_command(docker, args)
    found: dict[str, str] = {}
    for line in out.splitlines():
        name, _, image_id = line.partition("\t")
        for ref in wanted.get(name, ()):
            found[ref] = image_id
    return found
