"""The shared cache with the local target: a second clone on the same engine reuses the
layers the first clone built (their tags exist here), so it runs no build."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.build.conftest import make_monorepo

from .conftest import TEAM_KEY

pytestmark = pytest.mark.docker


def _build(repo, root, env) -> dict:
    start = repo.log.stat().st_size if repo.log.exists() else 0
    proc = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", "build", "--json"], cwd=root,
        env={**repo.env(), **env}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
    summary["builds"] = repo.builds(start)
    return summary


def test_second_clone_builds_nothing_with_the_shared_cache(
    tmp_path, docker_engine, python_base_image, nginx
):
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two"])
    env = {"CHUTES_BUILD_REMOTE_CACHE": nginx[0], "CHUTES_BUILD_CACHE_KEY": TEAM_KEY}
    try:
        second_root = tmp_path / "ws2"
        shutil.copytree(repo.root, second_root)
        first = _build(repo, repo.root, env)
        assert first["builds"] and first["remote_cache"]["pushed"] > 0
        second = _build(repo, second_root, env)
        assert second["builds"] == []
        assert {img["status"] for img in second["images"]} == {"cached"}
        assert second["remote_cache"]["pulled"] > 0
    finally:
        repo.cleanup()
