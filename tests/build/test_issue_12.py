"""Issue 12, the local target: ``up`` never reports a chute running that does not answer
as itself. Each test drives the real CLI on a temporary workspace and the real engine.
"""

from __future__ import annotations

import subprocess

import httpx
import pytest

pytestmark = pytest.mark.docker

BASE_ONLY = """\
from chutes_build import Chute, Image

image = Image(username="t", name="{name}", tag="1").from_base("parachutes/python:3.12")
chute = Chute(username="t", name="{name}", image=image)

@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"chute": "{name}", "text": text}}
"""


def _docker(repo, *args: str) -> str:
    return subprocess.run(
        [repo.docker, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_issue_12_an_image_that_is_only_from_base_builds_and_runs(monorepo) -> None:
    name = f"{monorepo.prefix}-bare"
    (monorepo.root / "chutes" / "bare.py").write_text(BASE_ONLY.format(name=name))
    summary = monorepo.up()
    assert summary["states"]["bare"] == "started", summary
    (image,) = [i for i in summary["images"] if i["chutes"] == [name]]
    # Nothing to build: the image is its base, tagged under its own name.
    assert image["status"] == "cached" and image["ref"] == f"{name}:1"
    assert image["layer"] == "chutes-build/python-base:bookworm"
    base_id = _docker(monorepo, "image", "inspect", "-f", "{{.Id}}", image["layer"])
    assert _docker(monorepo, "image", "inspect", "-f", "{{.Id}}", image["ref"]) == base_id
    answer = httpx.post(f"{monorepo.url('bare')}/hello", json="hi", timeout=10).json()
    assert answer == {"chute": name, "text": "hi"}
    again = monorepo.up()
    assert again["states"]["bare"] == "unchanged" and again["builds"] == []
