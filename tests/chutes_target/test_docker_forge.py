"""One run against the stand-in's real ``docker build`` forge: the uploaded Dockerfile and
context build, the log is followed into the cache, and a failing step fails its chute only."""

from __future__ import annotations

import subprocess

import pytest

from chutes_build.cache import DiskStore
from tests.platform.standin._docker import docker_build_hook
from tests.platform.standin._state import image_id_for

from ._workspace import posts

pytestmark = pytest.mark.docker

CHUTE = """\
from chutes_build import Chute, Image, NodeSelector

img = (Image(username="alice", name="{name}", tag="1.0").from_base("{base}")
       .add("../app", "/app").run_command("{step}"))
chute = Chute(username="alice", name="{name}", image=img, node_selector=NodeSelector())

@chute.cord()
async def echo(self, text: str) -> str:
    return text
"""


def test_images_build_on_the_forge_and_a_failed_step_fails_its_chute(
    clone, standin, busybox_image, docker_engine
):
    standin.state.build_mode = docker_build_hook(docker_engine)
    for name in ("alpha", "beta", "delta"):
        (clone.root / "chutes" / f"{name}.py").unlink()
    for name, step in (("good", "cat /app/main.py && echo forged-ok"), ("bad", "exit 3")):
        text = CHUTE.format(name=name, base=busybox_image, step=step)
        (clone.root / "chutes" / f"{name}.py").write_text(text)
    try:
        run = clone.up("--accept-fee", "--keep-going", ok=False)
        summary = run["summary"]
        assert run["proc"].returncode == 1
        assert {r["chute"]: r["state"] for r in summary["chutes"]} == {
            "good": "created", "bad": "skipped"}  # fmt: skip
        assert {r["image"]: r["state"] for r in summary["images"]} == {
            "alice/good:1.0": "built", "alice/bad:1.0": "failed"}  # fmt: skip
        error = summary["failed"][0]["error"]
        assert "ended with status 'error: docker build exited with 1'" in error
        assert posts(standin, "/chutes/") == 1
        good = next(r for r in summary["images"] if r["image"] == "alice/good:1.0")
        store = DiskStore(str(clone.root / ".cache"))
        result = store.get_action(good["remote_key"])
        log = store.get_blob(result.logs[0]).decode()
        assert "forged-ok" in log
        assert result.outputs["image_id"] == image_id_for("alice", "good", "1.0")
    finally:
        for tag in ("standin/good:1.0", "standin/bad:1.0"):
            subprocess.run([docker_engine, "rmi", "-f", tag], capture_output=True)
