"""``chutes-build clean``: the engine's layer and runtime tags that no cache entry names
are removed; every tag the cache relies on stays, so the next build builds nothing."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.build.conftest import make_monorepo

pytestmark = pytest.mark.docker


def _exists(docker: str, ref: str) -> bool:
    return subprocess.run([docker, "image", "inspect", ref], capture_output=True).returncode == 0


@pytest.fixture
def busy(tmp_path, docker_engine, busybox_image):
    repo = make_monorepo(tmp_path, docker_engine, busybox_image, ["one", "two"])
    yield repo
    repo.cleanup()


def test_issue_15_clean_removes_only_tags_no_entry_uses(busy) -> None:
    busy.cli("build")
    built = set(busy.builds())
    assert built, "the first build ran docker builds"
    leftover = f"chutes-build/layer:{uuid.uuid4().hex}"
    subprocess.run([busy.docker, "tag", "chutes-build/busybox:latest", leftover], check=True)
    dry = json.loads(busy.cli("clean", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True and leftover in dry["removed"]
    assert not built & set(dry["removed"])  # what this cache recorded is never listed
    assert _exists(busy.docker, leftover)  # a dry run removes nothing
    done = json.loads(busy.cli("clean", "--json").stdout)
    assert leftover in done["removed"] and not _exists(busy.docker, leftover)
    assert all(_exists(busy.docker, tag) for tag in built)
    start = busy.log.stat().st_size
    busy.cli("build")
    assert busy.builds(start) == []  # nothing the cache relies on was removed
