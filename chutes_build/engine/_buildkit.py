"""Building a chain of layers with BuildKit in one build.

A request is a parent image, the Dockerfile lines applied on top of it (a chain of
layer nodes between two cached points: one build, not one per line), the files of
the build context and the tags to apply.

The context holds only the files the request names: they are copied into an empty
temporary folder while the bytes copied are hashed and compared with the digests the
request's keys were computed from (``expected``; see ``_context.materialize``), and
the context is hashed again once the build is done, so a file saved during a build
can never be recorded under its old content's key. The Dockerfile is written
*outside* the context and passed with ``-f``. BuildKit's file sync
then transfers only what ``COPY``/``ADD`` read, incrementally, and the Dockerfile
never lands in the image (``COPY . /app`` copies the named files and nothing else).
A context streamed as a tar on stdin would carry the Dockerfile inside it: the
engine's BuildKit does not apply ``.dockerignore`` to uploaded tars.

Branch points inside the chain (``branch_tags``) are tagged by extra builds of the
Dockerfile cut after that line, run after the full chain: their steps are BuildKit
cache hits (the same parent, lines and file contents give the same cache keys), so
each costs a fraction of a second and all the work happens, and streams, in the
first build. (``docker build`` exports one target per invocation; buildx bake could
export several, but the engine's embedded BuildKit has no bake.)
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import trio

from ..cache import faults as _faults
from ..core import BuildError
from ._context import check_context, context_write_failure, materialize
from ._docker import engine_fix
from ._protocol import DockerEngine

__all__ = ["BuildRequest", "BuildResult", "build"]

LOG_TAIL_LINES = 40
NETWORK_MODES = (None, "default", "none", "host")


@dataclass(frozen=True, slots=True)
class BuildRequest:
    """One build: ``FROM parent`` plus ``lines``, tagged ``tag`` at the end.

    ``context`` maps a path inside the build context (relative, ``/``-separated) to
    the absolute source file; ``expected`` maps context paths to the ``(digest, mode)``
    their keys were computed from (the build is refused when a file differs).
    ``branch_tags`` maps a tag to the number of lines applied at that branch point
    (1 .. ``len(lines)``). ``network`` is the build's network mode: ``None`` (the
    engine's default), ``"none"`` or ``"host"``.
    """

    parent: str
    lines: Sequence[str]
    tag: str
    context: Mapping[str, str] = field(default_factory=dict)
    branch_tags: Mapping[str, int] = field(default_factory=dict)
    network: str | None = None
    expected: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    no_cache: bool = False  # build without BuildKit's cache (``--no-cache``)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "context", dict(sorted(self.context.items())))
        object.__setattr__(self, "branch_tags", dict(self.branch_tags))
        if isinstance(self.lines, str) or not self.lines:
            raise ValueError("BuildRequest.lines must be a non-empty list of Dockerfile lines")
        for tag, count in self.branch_tags.items():
            if not 1 <= count <= len(self.lines):
                raise ValueError(
                    f"branch tag {tag!r} at line {count} is outside 1..{len(self.lines)}"
                )
        if self.network not in NETWORK_MODES:
            raise ValueError(f"network must be one of {NETWORK_MODES}, not {self.network!r}")
        for path in self.context:
            _check_context_path(path)

    def dockerfile(self, count: int | None = None) -> str:
        """The Dockerfile text with the first ``count`` lines (all by default)."""
        lines = self.lines if count is None else self.lines[:count]
        return "".join(f"{line}\n" for line in (f"FROM {self.parent}", *lines))


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The built image's id, every tag applied (``{tag: image id}``) and the full log."""

    image_id: str
    tags: Mapping[str, str]
    log: str


def _check_context_path(path: str) -> None:
    norm = posixpath.normpath(path)
    if (
        not path
        or path.startswith("/")
        or norm != path
        or norm == "."
        or norm.split("/", 1)[0] == ".."
    ):
        raise BuildError(
            f"invalid build context path {path!r}",
            fix="name context files by a normalised relative path such as 'src/app.py'",
        )


def _failure(tag: str, code: int, log: Sequence[str]) -> BuildError:
    tail = "\n".join(f"  | {line}" for line in log[-LOG_TAIL_LINES:])
    fix = (
        "the step marked ERROR above failed: fix that line of the image definition and build again"
    )
    fix = engine_fix("\n".join(log[-LOG_TAIL_LINES:])) or fix
    if any("network bridge not found" in line for line in log[-LOG_TAIL_LINES:]):
        fix = (
            "the engine has no bridge network (dockerd --bridge=none): build with "
            "network 'none' or 'host'"
        )
    error = BuildError(
        f"building {tag} failed (docker exit status {code}); the end of its log:\n{tail}", fix=fix
    )
    error.log = "\n".join(log)  # the whole log, for storing beside the failure
    return error


async def _build_once(
    docker: DockerEngine,
    request: BuildRequest,
    count: int,
    tag: str,
    folders: tuple[str, str],
    sink: Callable[[str], None],
) -> str:
    context_dir, work = folders
    dockerfile = os.path.join(work, f"{count}.Dockerfile")
    iidfile = os.path.join(work, f"{count}.iid")
    try:
        await trio.Path(dockerfile).write_text(request.dockerfile(count))
    except OSError as exc:
        raise context_write_failure(os.path.dirname(work), exc) from None
    argv = ["--progress=plain", "-f", dockerfile, "--iidfile", iidfile]
    argv += ["-t", tag]
    if request.network is not None:
        argv += [f"--network={request.network}"]
    if request.no_cache:
        argv += ["--no-cache"]
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        sink(line)
        _faults.hit("build.output", context=context_dir)

    code = await docker.run_build([*argv, context_dir], on_line)
    if code != 0:
        raise _failure(tag, code, lines)
    return (await trio.Path(iidfile).read_text()).strip()


def _prepare(parent: str | None, request: BuildRequest) -> tuple[str, str]:
    """A temporary folder holding the request's context: ``(folder, context folder)``."""
    parent = parent or tempfile.gettempdir()
    work = None
    try:
        work = tempfile.mkdtemp(prefix="chutes-build-", dir=parent)
        context_dir = os.path.join(work, "context")
        os.mkdir(context_dir)
        materialize(request.context, context_dir, request.expected)
        return work, context_dir
    except BaseException as exc:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise context_write_failure(parent, exc, request.context.values()) from None
        raise


async def build(
    docker: DockerEngine,
    request: BuildRequest,
    *,
    on_line: Callable[[str], None] | None = None,
    workdir: str | None = None,
) -> BuildResult:
    """Run ``request`` as one BuildKit build (plus cache-hit builds for branch tags).

    Each output line goes to ``on_line`` as it arrives. Temporary files go under
    ``workdir`` (default: the system's temp folder). A failed step raises
    :class:`BuildError` with the end of the log in its message and the whole log in
    its ``log`` attribute. Cancellation kills the client's process group; only a
    build that completed applies its tag. A context file that differs from its
    ``expected`` digest, before or after the build, raises ``ChangedWhileBuilding``.
    """
    log: list[str] = []

    def sink(line: str) -> None:
        log.append(line)
        if on_line is not None:
            on_line(line)

    work, context_dir = await trio.to_thread.run_sync(_prepare, workdir, request)
    try:
        folders = (context_dir, work)
        full = len(request.lines)
        image_id = await _build_once(docker, request, full, request.tag, folders, sink)
        tags = {request.tag: image_id}
        for tag, count in sorted(request.branch_tags.items(), key=lambda item: -item[1]):
            tags[tag] = await _build_once(docker, request, count, tag, folders, sink)
        await trio.to_thread.run_sync(check_context, context_dir, request.expected)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(shutil.rmtree, work, True)
    return BuildResult(image_id=image_id, tags=tags, log="\n".join(log))
