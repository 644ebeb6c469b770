"""An in-memory Docker engine for unit tests: ``FakeDocker``.

It implements ``DockerEngine`` (as httpx's ``MockTransport`` stands in for a server):
it holds tagged images, containers with labels, state and logs, and a registry, and
records every call in ``calls`` as ``(method, argument...)``. A build reads the
Dockerfile it is given and tags an image whose id is the digest of that text (so the
same Dockerfile gives the same image, as BuildKit's cache does); a ``FROM`` the engine
does not hold fails as a real build does. What only a real engine proves (BuildKit,
containers serving HTTP, the Engine API) is tested against the real one.

    docker = FakeDocker()
    docker.add_image("chutes-build/python-base:bookworm")
    docker.add_container("c1", "img:1", labels={"chutes-build.workspace": "w"})
    rows = await local_status(docker, root)
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import BuildError, DeployError
from ._docker import failure_fix, log_error
from ._protocol import ContainerInfo, normal_ref

__all__ = ["FakeContainer", "FakeDocker"]

_STARTED = "2026-01-01T00:00:00.000000000Z"


@dataclass
class FakeContainer:
    """A container of a ``FakeDocker``; tests change ``state`` or ``log`` freely."""

    id: str
    name: str
    image: str
    labels: dict[str, str]
    state: str = "running"
    log: str = ""
    command: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, str] = field(default_factory=dict)
    network: str = "host"
    gpus: str | None = None
    restarts: int = 0

    def info(self, keys: Sequence[str] = ()) -> ContainerInfo:
        labels = {k: self.labels[k] for k in keys if self.labels.get(k)} if keys else self.labels
        return ContainerInfo(self.id, self.name, self.image, self.state, dict(labels))

    def record(self) -> dict[str, Any]:
        """What ``docker inspect`` says of it (the fields chutes-build reads)."""
        running = self.state == "running"
        return {
            "Id": self.id,
            "Name": f"/{self.name}",
            "RestartCount": self.restarts,
            "State": {"Status": self.state, "Running": running,
                      "StartedAt": _STARTED if running else "0001-01-01T00:00:00Z"},
            "Config": {"Image": self.image, "Labels": dict(self.labels)},
        }  # fmt: skip


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _fail(kind: type[Exception], words: Sequence[str], message: str) -> Exception:
    detail = f"Error response from daemon: {message}"
    return kind(f"`docker {' '.join(words)}` failed (exit 1): {detail}",
                fix=failure_fix(detail, words))  # fmt: skip


class FakeDocker:
    """A ``DockerEngine`` in memory. ``images`` maps each tag (``repo:tag``) to an image
    id; ``containers_by_name`` holds the containers; ``registry`` what was pushed;
    ``run_outputs`` maps an image to what ``run_once`` prints (a missing one fails);
    ``failing_builds`` holds tags whose build fails."""

    path, mode, builder = "fake-docker", "buildkit", None

    def __init__(self) -> None:
        self.images: dict[str, str] = {}
        self.containers_by_name: dict[str, FakeContainer] = {}
        self.registry: dict[str, str] = {}
        self.run_outputs: dict[str, str] = {}
        self.failing_builds: set[str] = set()
        self.calls: list[tuple[Any, ...]] = []
        self.builds: list[tuple[str, str]] = []  # (tag, Dockerfile text)
        self._ids = itertools.count(1)

    # -- set-up -------------------------------------------------------------------------

    def add_image(self, ref: str, image_id: str | None = None) -> str:
        """Tag ``ref`` (a new image, or ``image_id``); the image id."""
        image_id = image_id or _digest(f"image {ref}")
        self.images[normal_ref(ref)] = image_id
        return image_id

    def add_container(self, name: str, image: str, **fields: Any) -> FakeContainer:
        """A container named ``name`` from ``image`` (any ``FakeContainer`` field)."""
        fields.setdefault("labels", {})
        container = FakeContainer(id=f"{next(self._ids):064x}", name=name, image=image,
                                  **fields)  # fmt: skip
        self.containers_by_name[name] = container
        return container

    def called(self, method: str) -> list[tuple[Any, ...]]:
        """The recorded arguments of each call of ``method``."""
        return [call[1:] for call in self.calls if call[0] == method]

    def build_argv(self) -> list[str]:
        return [self.path, "build"]

    def env(self) -> dict[str, str]:
        return {"DOCKER_BUILDKIT": "1"}

    # -- images -------------------------------------------------------------------------

    async def image_ids(self, refs: Iterable[str]) -> dict[str, str]:
        refs = list(refs)
        self.calls.append(("image_ids", tuple(refs)))
        return {r: self.images[normal_ref(r)] for r in refs if normal_ref(r) in self.images}

    async def image_tags(self, repos: Sequence[str]) -> set[str]:
        self.calls.append(("image_tags", tuple(repos)))
        return {tag for tag in self.images if tag.rsplit(":", 1)[0] in repos}

    async def inspect_image(self, ref: str) -> dict[str, Any] | None:
        self.calls.append(("inspect_image", ref))
        image_id = self.images.get(normal_ref(ref))
        if image_id is None:
            return None
        return {"Id": image_id, "RepoTags": sorted(t for t, i in self.images.items()
                                                   if i == image_id)}  # fmt: skip

    async def tag_image(self, source: str, target: str) -> None:
        self.calls.append(("tag_image", source, target))
        if normal_ref(source) not in self.images:
            raise _fail(BuildError, ["tag", source], f"No such image: {source}")
        self.images[normal_ref(target)] = self.images[normal_ref(source)]

    def _in_use(self, image_id: str) -> bool:
        return any(self.images.get(normal_ref(c.image)) == image_id
                   for c in self.containers_by_name.values())  # fmt: skip

    async def remove_images(self, refs: Sequence[str]) -> None:
        self.calls.append(("remove_images", tuple(refs)))
        for ref in refs:
            image_id = self.images.get(normal_ref(ref))
            if image_id is None:
                continue
            others = [t for t, i in self.images.items() if i == image_id and t != normal_ref(ref)]
            if others or not self._in_use(image_id):
                del self.images[normal_ref(ref)]

    async def push(self, ref: str) -> None:
        self.calls.append(("push", ref))
        if normal_ref(ref) not in self.images:
            raise _fail(BuildError, ["push", ref], f"No such image: {ref}")
        self.registry[normal_ref(ref)] = self.images[normal_ref(ref)]

    async def pull(self, ref: str) -> None:
        self.calls.append(("pull", ref))
        if normal_ref(ref) not in self.registry:
            raise _fail(BuildError, ["pull", "--quiet"], f"manifest for {ref} not found")
        self.images[normal_ref(ref)] = self.registry[normal_ref(ref)]

    # -- containers ---------------------------------------------------------------------

    async def containers(
        self, labels: Mapping[str, str | None], keys: Sequence[str] = ()
    ) -> list[ContainerInfo]:
        self.calls.append(("containers", dict(labels), tuple(keys)))

        def matches(container: FakeContainer) -> bool:
            return all(k in container.labels and (v is None or container.labels[k] == v)
                       for k, v in labels.items())  # fmt: skip

        return [c.info(keys) for c in self.containers_by_name.values() if matches(c)]

    def _find(self, ident: str) -> FakeContainer | None:
        found = self.containers_by_name.get(ident)
        return found or next((c for c in self.containers_by_name.values()
                              if c.id.startswith(ident)), None)  # fmt: skip

    async def inspect_containers(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        self.calls.append(("inspect_containers", tuple(ids)))
        return [c.record() for c in map(self._find, ids) if c is not None]

    async def container_running(self, name: str) -> bool:
        self.calls.append(("container_running", name))
        found = self._find(name)
        return found is not None and found.state == "running"

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
        self.calls.append(("run_container", image, name))
        words = ["run", "--detach"]
        if name in self.containers_by_name:
            held = self.containers_by_name[name].id
            raise _fail(DeployError, words, f'Conflict. The container name "/{name}" is '
                        f"already in use by container \"{held}\"")  # fmt: skip
        if normal_ref(image) not in self.images:
            raise _fail(DeployError, words, f"No such image: {image}")
        return self.add_container(
            name, image, labels=dict(labels or {}), command=tuple(command), env=dict(env or {}),
            mounts=dict(mounts or {}), network=network, gpus=gpus,
        ).id  # fmt: skip

    async def run_once(
        self, image: str, command: Sequence[str], *, entrypoint: str | None = None
    ) -> str:
        self.calls.append(("run_once", image, tuple(command), entrypoint))
        if normal_ref(image) not in self.images:
            raise _fail(BuildError, ["run", "--rm"], f"No such image: {image}")
        if image not in self.run_outputs:
            raise _fail(BuildError, ["run", "--rm"], f"{entrypoint or command[0]}: not found")
        return self.run_outputs[image]

    async def remove_containers(self, names: Sequence[str]) -> None:
        self.calls.append(("remove_containers", tuple(names)))
        for name in names:
            found = self._find(name)
            if found is not None:
                del self.containers_by_name[found.name]

    async def rename_container(self, name: str, new_name: str) -> None:
        self.calls.append(("rename_container", name, new_name))
        found = self.containers_by_name.pop(name)
        found.name = new_name
        self.containers_by_name[new_name] = found

    async def stop_container(self, name: str, timeout: int) -> None:
        self.calls.append(("stop_container", name, timeout))
        found = self._find(name)
        if found is not None:
            found.state = "exited"

    async def container_log(self, name: str, lines: int) -> str:
        self.calls.append(("container_log", name, lines))
        found = self._find(name)
        if found is None:
            return ""
        kept = found.log.splitlines(keepends=True)
        return "".join(kept[-lines:] if lines else [])

    async def stream_log(
        self,
        name: str,
        on_output: Callable[[bytes], None],
        *,
        tail: int | None = None,
        follow: bool = False,
    ) -> None:
        self.calls.append(("stream_log", name, tail, follow))
        found = self._find(name)
        if found is None:
            detail = f"Error response from daemon: No such container: {name}"
            raise log_error(name, "exit 1", detail)
        kept = found.log.splitlines(keepends=True)
        on_output("".join(kept if tail is None else kept[-tail:] if tail else []).encode())

    # -- builds -------------------------------------------------------------------------

    async def run_build(self, args: Sequence[str], on_line: Callable[[str], None]) -> int:
        """A build of ``-f DOCKERFILE -t TAG --iidfile FILE ... CONTEXT``."""
        options = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("-")}
        tag, dockerfile = options["-t"], options["-f"]
        with open(dockerfile) as handle:
            text = handle.read()
        self.calls.append(("run_build", tag))
        self.builds.append((tag, text))
        base = next((line.split()[1] for line in text.splitlines()
                     if line.upper().startswith("FROM ")), "scratch")  # fmt: skip
        if base != "scratch" and normal_ref(base) not in self.images:
            on_line(f"ERROR: failed to solve: {base}: not found")
            return 1
        if tag in self.failing_builds:
            on_line(f"ERROR: building {tag} failed (a test asked for it)")
            return 1
        image_id = _digest(text)
        self.images[normal_ref(tag)] = image_id
        if "--iidfile" in options:
            with open(options["--iidfile"], "w") as handle:
                handle.write(image_id)
        on_line(f"#1 naming to {tag} done")
        return 0
