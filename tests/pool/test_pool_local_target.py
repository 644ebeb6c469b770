"""Issue 17: ``up --target local`` runs a chute whose image an engine of the pool built,
and a new machine with an empty engine runs it again without building anything."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from tests.build.conftest import make_monorepo
from tests.pool.conftest import engine_row


def test_issue_17_up_target_local_pulls_the_image_another_engine_built(
    tmp_path, docker_engine, python_base_image, registry, extra_engine
):
    a = extra_engine("a")
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one"])
    with open(repo.root / "pyproject.toml", "a") as handle:
        handle.write(f'registry = "{registry}/{repo.prefix}"\nbuilders = ["{a.spec}"]\n')
    try:
        summary = repo.up()
        assert summary["states"] == {"one": "started"}
        [image] = summary["images"]
        assert image["status"] == "built"
        assert engine_row(summary, "a")["built"] >= 1
        assert summary["pool"]["pulled"] == [image["layer"]]  # a built it; this engine pulled it
        response = httpx.post(f"{repo.url('one')}/hello", json="hi", timeout=10)
        assert response.json() == {"chute": "one", "greeting": "hello", "text": "hi"}
        local = subprocess.run([docker_engine, "image", "inspect", "-f", "{{.Id}}",
                                image["layer"]], capture_output=True, text=True)  # fmt: skip
        built = a.docker_cmd("image", "inspect", "-f", "{{.Id}}",
                             f"{registry}/{repo.prefix}/layer:{image['layer'].split(':')[1]}")
        assert local.stdout.strip() == built.stdout.strip() != ""

        again = repo.up()  # nothing changed: nothing built, pulled or restarted
        assert again["states"] == {"one": "unchanged"}
        assert again["pool"]["pulled"] == [] and engine_row(again, "a")["built"] == 0
        repo.cli("down", "--target", "local")

        # A new machine: an empty engine, the same registry and cache: it pulls, never builds.
        c = extra_engine("c")
        start = repo.log.stat().st_size
        fresh = _up_on(repo, c)
        try:
            assert repo.builds(start) == []
            assert [row["state"] for row in fresh["chutes"]] == ["started"]
            assert engine_row(fresh, "c")["built"] == 0
            runtime = [t for t in fresh["pool"]["pulled"] if t.startswith("chutes-build/runtime:")]
            assert fresh["pool"]["pulled"] == [image["layer"], *runtime] and len(runtime) == 1
            response = httpx.post(f"{fresh['chutes'][0]['url']}/hello", json="hi", timeout=10)
            assert response.json() == {"chute": "one", "greeting": "hello", "text": "hi"}
        finally:
            _on(repo, c, "down", "--target", "local")
    finally:
        repo.cleanup()


def _on(repo, engine, *args: str) -> subprocess.CompletedProcess:
    """``chutes-build ARGS`` with ``engine`` as this machine's engine and the pool's."""
    env = {**repo.env(), "DOCKER_HOST": engine.host}
    argv = [sys.executable, "-m", "chutes_build.cli", *args]
    return subprocess.run(argv, cwd=repo.root, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def _up_on(repo, engine) -> dict:
    proc = _on(repo, engine, "up", "--target", "local", "--json", "--builders", engine.spec)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.splitlines()[-1])["summary"]
