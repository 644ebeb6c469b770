"""Issue 12: a file saved while a real BuildKit build runs never leaves a wrong result cached.

A file an image adds is hashed when the graph is compiled and put in the build context
later. Each trial saves one of those files at an exact moment of ``chutes-build build``
(``CHUTES_BUILD_FAULT=<point>:<n>=<command>`` runs the edit there; see
``chutes_build/cache/faults.py``): before the context is made, between two files of its
copy, while BuildKit runs, after the build before its result is recorded, and, to check
the second look after the build, on the context's own copy while BuildKit runs. Each edit
is made in place (same inode, as ``>`` does) and editor-style (write a new file, rename it
over the old one).

After every trial, and after the unarmed run that follows it, every layer result in the
cache is checked against the real image: its files, read back from a container, must
have exactly the digests that the layer's key was computed from (the recorded graph's
inputs). An edit that reached the context before the copy was made must refuse the build,
naming the file.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import uuid

import pytest
import xxhash

from chutes_build.cache import DiskStore
from chutes_build.graph import last_run
from tests.hardening._issue12 import cli

docker = pytest.mark.docker

NAMES = ("f0", "f1", "f2", "f3", "f4")
CHUTE = """\
from chutes_build import Chute, Image

image = (
    Image(username="t", name="{name}", tag="1")
    .from_base("parachutes/python:3.12")
    .add("data", "/app/data")
)
chute = Chute(username="t", name="{name}", image=image)


@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"text": text}}
"""
PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
base-images = {{ "parachutes/python:3.12" = "{base}" }}
"""
REFUSED = (
    r"(?m)chutes/data/{} changed while building: the build context(, read again after the "
    r"build,)? does not hold the content the image's cache key was computed from"
)

#: (point, n, file edited, where: "source" or "context", refused?)
TRIALS = [
    ("context.begin", 1, "f2", "source", True),
    ("context.copied", 1, "f3", "source", True),  # f3 is not copied yet
    ("context.copied", 4, "f1", "source", False),  # f1 is copied already: the copy is right
    ("build.output", 2, "f2", "source", False),  # the context is a copy: BuildKit never sees it
    ("build.finished", 1, "f0", "source", False),
    ("build.output", 2, "f4", "context", True),  # the context itself: the second look sees it
]


class Racer:
    def __init__(self, root, docker_path: str) -> None:
        self.root, self.docker = root, docker_path
        self.data = root / "chutes" / "data"
        self.known: dict[str, dict[str, str]] = {}  # layer key -> {context path: digest}
        self.seen: dict[str, dict[str, str]] = {}  # image id -> {path: digest} in the image
        self.trial = 0

    def fresh(self) -> None:
        """New content in every file, so each trial's keys (and BuildKit's) are new."""
        self.trial += 1
        for name in NAMES:
            (self.data / name).write_text(f"{uuid.uuid4().hex} {name} {self.trial}\n" * 64)

    def edit(self, name: str, where: str, style: str) -> str:
        """The shell command that saves ``name`` (in the source tree or the context)."""
        folder = (
            '"$CHUTES_BUILD_FAULT_CONTEXT/chutes/data"'
            if where == "context"
            else (f"'{self.data}'")
        )
        text = f"edited {uuid.uuid4().hex}"
        if style == "in-place":
            return f"printf '%s' '{text}' > {folder}/{name}"
        swap = f"{folder}/.{name}.swp"
        return f"printf '%s' '{text}' > {swap} && mv {swap} {folder}/{name}"

    def build(self, fault: str | None = None) -> tuple[int, str, str]:
        env = {"CHUTES_BUILD_FAULT": fault} if fault else {}
        code, out, err = cli(self.root, "build", "--json", env_extra=env)
        self.learn()
        return code, out, err

    def learn(self) -> None:
        """The inputs of each node of the run just made (the recorded graph)."""
        recorded = last_run(DiskStore(str(self.root / ".cache")), str(self.root))
        for key, node in (recorded.nodes if recorded else {}).items():
            if node.kind == "layer":
                inputs = node.inputs.items()
                files = {n[5:]: v.split(":")[0] for n, v in inputs if n.startswith("file:")}
                self.known.setdefault(key, files)

    def image_files(self, image_id: str) -> dict[str, str]:
        if image_id not in self.seen:
            proc = subprocess.run(
                [self.docker, "run", "--rm", "--network=none", image_id, "tar", "-C", "/app/data",
                 "-cf", "-", "."], capture_output=True, timeout=120,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr[-2000:]
            found = {}
            with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
                for member in archive.getmembers():
                    if member.isfile():
                        data = archive.extractfile(member).read()
                        found[f"chutes/data/{member.name.removeprefix('./')}"] = (
                            xxhash.xxh3_128_hexdigest(data)
                        )
            self.seen[image_id] = found
        return self.seen[image_id]

    def wrong_results(self) -> list[str]:
        """Every recorded layer whose image does not hold what its key was computed from."""
        store = DiskStore(str(self.root / ".cache"))
        wrong = []
        for entry in store.entries():
            result = store.get_action(entry.name) if entry.area == "ac" else None
            if result is None or result.kind != "layer" or "image_id" not in result.outputs:
                continue
            expected = self.known.get(entry.name)
            if expected is None:
                wrong.append(f"{entry.name}: a result for a key no run computed")
            elif self.image_files(result.outputs["image_id"]) != expected:
                image = result.outputs["image_id"]
                wrong.append(f"{entry.name}: image {image} holds other content")
        return wrong

    def cleanup(self) -> None:
        tags = [f"chutes-build/layer:{key}" for key in self.known]
        subprocess.run([self.docker, "rmi", "--force", *tags, *sorted(self.seen)],
                       capture_output=True)  # fmt: skip


@pytest.fixture
def racer(tmp_path, docker_engine, busybox_image):
    root = tmp_path / "ws"
    (root / "chutes" / "data").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(base=busybox_image))
    (root / "chutes" / "racer.py").write_text(CHUTE.format(name=f"racer-{uuid.uuid4().hex[:8]}"))
    found = Racer(root, docker_engine)
    yield found
    found.cleanup()


@docker
@pytest.mark.parametrize("style", ["in-place", "editor"])
def test_issue_12_a_racing_edit_never_leaves_a_wrong_result_cached(racer, style) -> None:
    outcomes = []
    for point, n, name, where, refused in TRIALS:
        racer.fresh()
        fault = f"{point}:{n}={racer.edit(name, where, style)}"
        code, out, err = racer.build(fault)
        outcomes.append((point, n, name, where, code))
        assert racer.wrong_results() == [], (fault, outcomes, err[-3000:])
        summary = json.loads(out.splitlines()[-1])["summary"] if out.strip() else {}
        if refused:
            assert code == 1 and re.search(REFUSED.format(name), out + err), (fault, out, err)
        else:
            assert code == 0 and summary.get("failed") == [], (fault, out[-2000:], err[-3000:])
        code, out, err = racer.build()  # the next run: builds what is there now, or hits
        assert code == 0, (fault, err[-3000:])
        assert racer.wrong_results() == [], (fault, outcomes)
    assert len(racer.seen) >= len(TRIALS), racer.seen  # each trial's result was read back
