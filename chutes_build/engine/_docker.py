"""The docker CLI as a ``DockerEngine``: each call is one short ``docker`` process.

``DockerClient`` is a client known to build with BuildKit (``find_docker`` picks it):
its ``mode`` says how builds run (``docker buildx build --load`` or ``docker build``
with ``DOCKER_BUILDKIT=1``). Every other call is one docker command whose failure
raises the caller's ``ChutesBuildError`` class with the engine's words and a fix that
fits them (``engine_fix``). It answers wherever the CLI does: ssh:// and TLS hosts,
docker contexts, buildx builders; ``ApiDocker`` asks the engine's socket instead when
there is one.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import trio

from ..core import BuildError, DeployError
from ._process import stream_process
from ._protocol import ContainerInfo, normal_ref

__all__ = [
    "DockerClient",
    "docker_command",
    "engine_fix",
    "existing_images",
    "log_error",
    "run_argv",
    "wanted_refs",
]

BUILDX = "buildx"
BUILDKIT = "buildkit"
ENGINE_FIX = "start the engine with scripts/docker-up (it installs Debian's docker.io if needed)"

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
_REF_FORMAT = "{{.Repository}}:{{.Tag}}\t{{.ID}}"


@dataclass(frozen=True, slots=True)
class DockerClient:
    """A docker client known to build with BuildKit, answering through the CLI.

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

    async def _run(self, args: Sequence[str], error: type[Exception] = BuildError) -> str:
        return await docker_command(self, args, error=error)

    async def image_ids(self, refs: Iterable[str]) -> dict[str, str]:
        wanted = wanted_refs(refs)
        if not wanted:
            return {}
        out = await self._run(_ls_args(sorted({n.rsplit(":", 1)[0] for n in wanted}), _REF_FORMAT))
        found: dict[str, str] = {}
        for line in out.splitlines():
            name, _, image_id = line.partition("\t")
            for ref in wanted.get(name, ()):
                found[ref] = image_id
        return found

    async def image_tags(self, repos: Sequence[str]) -> set[str]:
        return set((await self._run(_ls_args(repos, "{{.Repository}}:{{.Tag}}"))).split())

    async def inspect_image(self, ref: str) -> dict[str, Any] | None:
        proc = await self._quiet(["image", "inspect", ref])
        return json.loads(proc.stdout)[0] if proc.returncode == 0 else None

    async def tag_image(self, source: str, target: str) -> None:
        await self._run(["tag", source, target])

    async def remove_images(self, refs: Sequence[str]) -> None:
        if refs:
            await self._quiet(["rmi", *refs])

    async def push(self, ref: str) -> None:
        await self._run(["push", ref])

    async def pull(self, ref: str) -> None:
        await self._run(["pull", "--quiet", ref])

    async def containers(
        self, labels: Mapping[str, str | None], keys: Sequence[str] = ()
    ) -> list[ContainerInfo]:
        fmt = "\t".join(["{{json .}}", *(f'{{{{json (.Label "{key}")}}}}' for key in keys)])
        args = ["ps", "--all", "--no-trunc", "--format", fmt]
        for key, value in sorted(labels.items()):
            args += ["--filter", f"label={key}" if value is None else f"label={key}={value}"]
        out = await self._run(args, DeployError)
        return [_container(line, keys) for line in out.splitlines() if line.strip()]

    async def inspect_containers(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        proc = await self._quiet(["inspect", "--type", "container", *ids])
        return json.loads(proc.stdout or "[]")  # a vanished one is left out (exit 1)

    async def container_running(self, name: str) -> bool:
        proc = await self._quiet(["inspect", "-f", "{{.State.Running}}", name])
        return proc.returncode == 0 and proc.stdout.strip() == b"true"

    async def run_container(self, image: str, *, name: str, **options: Any) -> str:
        out = await self._run(run_argv(image, name=name, **options), DeployError)
        return out.strip()

    async def run_once(
        self, image: str, command: Sequence[str], *, entrypoint: str | None = None
    ) -> str:
        args = ["run", "--rm", "--network=none"]
        args += ["--entrypoint", entrypoint] if entrypoint is not None else []
        return await self._run([*args, image, *command])

    async def remove_containers(self, names: Sequence[str]) -> None:
        if not names:
            return
        try:
            await self._run(["rm", "--force", *names], DeployError)
        except DeployError as exc:
            if "No such container" not in str(exc):
                raise

    async def rename_container(self, name: str, new_name: str) -> None:
        await self._run(["rename", name, new_name], DeployError)

    async def stop_container(self, name: str, timeout: int) -> None:
        try:
            await self._run(["stop", "--time", str(timeout), name], DeployError)
        except DeployError as exc:
            if "No such container" not in str(exc):
                raise

    async def container_log(self, name: str, lines: int) -> str:
        proc = await self._quiet(["logs", "--tail", str(lines), name], merge=True)
        return proc.stdout.decode(errors="replace") if proc.returncode == 0 else ""

    async def stream_log(
        self,
        name: str,
        on_output: Callable[[bytes], None],
        *,
        tail: int | None = None,
        follow: bool = False,
    ) -> None:
        argv = [self.path, "logs", *(["--follow"] if follow else [])]
        argv += [*(["--tail", str(tail)] if tail is not None else []), name]
        process = await trio.lowlevel.open_process(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.env(),
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
            raise log_error(name, f"exit {process.returncode}", last.decode(errors="replace"))

    async def run_build(self, args: Sequence[str], on_line: Callable[[str], None]) -> int:
        return await stream_process([*self.build_argv(), *args], env=self.env(), on_line=on_line)

    async def _quiet(self, args: Sequence[str], merge: bool = False):
        return await trio.run_process(
            [self.path, *args], capture_stdout=True, check=False, env=self.env(), stdin=b"",
            stderr=subprocess.STDOUT if merge else subprocess.DEVNULL,
        )  # fmt: skip


def log_error(name: str, status: str, detail: str) -> DeployError:
    """The error of a container log that could not be read."""
    return DeployError(
        f"`docker logs {name}` failed ({status}): {detail.strip()}",
        fix="check the engine with `docker info`; `chutes-build ps` lists the chutes",
    )


def wanted_refs(refs: Iterable[str]) -> dict[str, list[str]]:
    """``{the engine's form of a ref: [the refs asked for in that form]}``."""
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        wanted.setdefault(normal_ref(ref), []).append(ref)
    return wanted


def _ls_args(repos: Iterable[str], fmt: str) -> list[str]:
    args = ["image", "ls", "--no-trunc", "--format", fmt]
    for repo in repos:
        args += ["--filter", f"reference={repo}"]
    return args


def run_argv(
    image: str,
    *,
    name: str,
    command: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    mounts: Mapping[str, str] | None = None,
    network: str = "host",
    gpus: str | None = None,
) -> list[str]:
    """The ``docker run`` arguments of ``DockerEngine.run_container``."""
    args = ["run", "--detach", "--name", name, f"--network={network}"]
    if gpus is not None:
        args += ["--gpus", gpus]
    for key, value in sorted((labels or {}).items()):
        args += ["--label", f"{key}={value}"]
    for key, value in sorted((env or {}).items()):
        args += ["--env", f"{key}={value}"]
    for host, inside in sorted((mounts or {}).items()):
        args += ["--mount", f"type=bind,source={host},target={inside},readonly"]
    return [*args, image, *command]


def _parse_labels(text: str) -> dict[str, str]:
    # `docker ps` joins labels with commas, so a value holding a comma is split wrongly
    # here; the labels asked for by name (``keys``) are read exactly instead.
    labels = {}
    for item in text.split(",") if text else ():
        key, _, value = item.partition("=")
        labels[key] = value
    return labels


def _container(line: str, keys: Sequence[str]) -> ContainerInfo:
    row, *exact = (json.loads(part) for part in line.split("\t"))
    labels = _parse_labels(row.get("Labels", ""))
    if keys:  # exactly the labels asked for (one a container lacks reads as "")
        labels = {key: value for key, value in zip(keys, exact, strict=True) if value}
    return ContainerInfo(
        id=row["ID"], name=row["Names"], image=row["Image"], state=row["State"], labels=labels
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
            fix=failure_fix(detail, args[:2]),
        )
    return proc.stdout.decode(errors="replace")


def engine_fix(output: str) -> str | None:
    """The fix that what docker printed calls for: start the engine only when none
    answered; else the fix that fits the engine's message; ``None`` when none fits."""
    lowered = output.lower()
    if any(text.lower() in lowered for text in _UNREACHABLE):
        return ENGINE_FIX
    return next((fix for text, fix in _FIXES if text in output), None)


def failure_fix(detail: str, words: Sequence[str]) -> str:
    """``engine_fix``, else a pointer to the docker command that reproduces it."""
    return engine_fix(detail) or (
        f"the engine's message above says what failed; `docker {' '.join(words)}` reproduces it"
    )


async def existing_images(docker, refs: Iterable[str]) -> dict[str, str]:
    """Which of ``refs`` (``repo:tag``) exist in the engine: ``{ref: image id}``.

    One query for all of them, filtered by their repositories, whatever their number.
    """
    return await docker.image_ids(refs)
