"""Issue 6: `up --target local` on a monorepo, against the real engine.

One scenario, step by step: the first ``up`` builds each shared layer once; the
second builds nothing and touches no container; a code-only edit restarts one
container without a build; an image edit rebuilds and restarts only that chute.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys

import httpx
import pytest

pytestmark = pytest.mark.docker


def _hello(repo, name: str) -> dict:
    response = httpx.post(f"{repo.url(name)}/hello", json="hi", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _runtime_has_no_engine_packages(repo, container: str) -> None:
    """The runtime venv in the image holds the server's deps, never the build engine's."""
    probe = (
        "import importlib.util as u, chutes_runtime, msgspec, starlette, uvicorn;"
        "print([m for m in ('trio', 'networkx', 'httpx', 'typer') if u.find_spec(m)])"
    )
    out = subprocess.run(
        [repo.docker, "exec", container, "/opt/chutes-runtime/bin/python", "-c", probe],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_issue_6_up_builds_once_then_noop_then_only_what_changed(monorepo) -> None:
    first = monorepo.up()
    counts = collections.Counter(first["builds"])
    assert counts and max(counts.values()) == 1, counts
    layer_builds = [t for t in first["builds"] if t.startswith("chutes-build/layer:")]
    runtime_builds = [t for t in first["builds"] if t.startswith("chutes-build/runtime:")]
    # One build for the shared segment, one per chute's own layer; one runtime layer each.
    assert len(layer_builds) == 4, first["builds"]
    assert len(runtime_builds) == 3, first["builds"]
    assert first["states"] == {"one": "started", "two": "started", "three": "started"}
    assert {img["status"] for img in first["images"]} == {"built"}
    for name in ("one", "two", "three"):
        assert _hello(monorepo, name) == {"chute": name, "greeting": "hello", "text": "hi"}
    before = monorepo.containers()
    assert set(before) == {"one", "two", "three"}
    _runtime_has_no_engine_packages(monorepo, before["one"][0])

    second = monorepo.up()
    assert second["builds"] == []
    assert set(second["states"].values()) == {"unchanged"}
    assert {img["status"] for img in second["images"]} == {"cached"}
    assert monorepo.containers() == before

    monorepo.write_chute("two", greeting="edited")  # code only: the image is the same
    third = monorepo.up()
    assert third["builds"] == []
    assert third["states"] == {"one": "unchanged", "two": "restarted", "three": "unchanged"}
    after = monorepo.containers()
    assert after["one"] == before["one"] and after["three"] == before["three"]
    assert after["two"] != before["two"]
    assert _hello(monorepo, "two")["greeting"] == "edited"

    monorepo.write_chute("three", step="echo changed > /app/name")
    fourth = monorepo.up()
    shared = set(layer_builds) - set(third["builds"])
    assert len(fourth["builds"]) == 2, fourth["builds"]  # three's own layer + its runtime layer
    assert not shared & set(fourth["builds"])
    three_image = next(i for i in fourth["images"] if i["chutes"] == [f"{monorepo.prefix}-three"])
    assert f"chutes-build/layer:{three_image['layer'].split(':')[1]}" in fourth["builds"]
    assert fourth["states"] == {"one": "unchanged", "two": "unchanged", "three": "restarted"}
    final = monorepo.containers()
    assert final["one"] == before["one"] and final["two"] == after["two"]
    for name in ("one", "two", "three"):
        assert _hello(monorepo, name)["chute"] == name

    (monorepo.root / "chutes" / "one.py").unlink()  # a deleted chute's container goes
    fifth = monorepo.up()
    assert fifth["builds"] == []
    assert fifth["states"] == {"one": "removed", "two": "unchanged", "three": "unchanged"}
    assert set(monorepo.containers()) == {"two", "three"}

    monorepo.cli("down", "--target", "local")
    assert monorepo.containers() == {}


BROKEN = """\
from common.base import base
from chutes_build import Chute

image = base("{prefix}-broken").run_command("echo broken > /app/name")
chute = Chute(username="t", name="{prefix}-broken", image=image)

@chute.on_startup()
async def explode(self):
    print("startup is about to fail")
    raise RuntimeError("no model here")

@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"text": text}}
"""


def test_a_chute_that_never_answers_fails_with_its_log_and_is_removed(monorepo) -> None:
    (monorepo.root / "chutes" / "broken.py").write_text(BROKEN.format(prefix=monorepo.prefix))
    env = {**monorepo.env(), "CHUTES_BUILD_HEALTH_TIMEOUT": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local", "--json",
         "chutes/broken.py"], cwd=monorepo.root, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1
    summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
    monorepo.runs.append(summary)
    assert [row["state"] for row in summary["chutes"]] == ["failed"]
    (failure,) = summary["failed"]
    assert "did not become healthy" in failure["error"]
    assert "no model here" in failure["error"] or "startup is about to fail" in failure["error"]
    left = subprocess.run(
        [monorepo.docker, "ps", "-a", "-q", "--filter",
         f"label=chutes-build.chute={monorepo.prefix}-broken"], capture_output=True, text=True,
    )  # fmt: skip
    assert left.stdout.strip() == ""
