"""Issue 17: ``up --target local`` runs a chute whose image an engine of the pool built."""

from __future__ import annotations

import subprocess

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
    finally:
        repo.cleanup()
