"""Code reload inside a container the local target started: same container, new code."""

from __future__ import annotations

import httpx
import pytest
import trio

from chutes_build.engine import reload_code
from tests.build.conftest import make_monorepo

pytestmark = pytest.mark.docker


def _hello(repo, name: str) -> dict:
    return httpx.post(f"{repo.url(name)}/hello", json="hi", timeout=10).json()


def test_issue_15_reload_in_the_running_container_serves_the_saved_code(
    tmp_path, docker_engine, python_base_image
) -> None:
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one"])
    try:
        repo.up()
        before = repo.containers()["one"]
        assert _hello(repo, "one")["greeting"] == "hello"
        repo.write_chute("one", greeting="reloaded")  # saved on the host: the mount has it
        path = "chutes/one.py"
        result = trio.run(reload_code, repo.url("one"), {path: (repo.root / path).read_bytes()})
        assert result.ok and result.generation == 2, result
        assert result.unchanged == (path,) and result.written == ()  # read-only mount
        assert _hello(repo, "one")["greeting"] == "reloaded"
        assert repo.containers()["one"] == before  # not restarted

        broken = b"from chutes_build import Chute\nchute = Chute(\n"
        (repo.root / path).write_bytes(broken)
        failed = trio.run(reload_code, repo.url("one"), {path: broken})
        assert not failed.ok and failed.status == 422
        assert failed.error.text.startswith(f"{path}:2: syntax error: "), failed.error.text
        assert _hello(repo, "one")["greeting"] == "reloaded"
        assert repo.containers()["one"] == before
    finally:
        repo.cleanup()
