"""``build`` and ``up`` go on past a chute file that ends or hangs the process importing it."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import make_monorepo

ENDS = "import os\nfrom chutes_build import Chute\nos._exit(0)\n"
HANGS = "import time\nfrom chutes_build import Chute\nwhile True:\n    time.sleep(1)\n"


def summary(proc) -> dict:
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert lines and "summary" in lines[-1], proc.stdout[-2000:] + proc.stderr[-2000:]
    return lines[-1]["summary"]


def check_errors(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert re.search(
        r"^error: chutes/exits\.py:3: importing the chute file called os\._exit\(0\)", stderr, re.M
    ), stderr
    assert re.search(
        r"^error: chutes/hangs\.py:4: importing the chute file took longer than 1 s", stderr, re.M
    ), stderr


@pytest.mark.docker
def test_issue_12_build_and_up_go_on_past_a_file_that_ends_or_hangs(
    tmp_path, docker_engine, python_base_image
):
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one"])
    try:
        with open(repo.root / "pyproject.toml", "a") as handle:
            handle.write("import-timeout = 1\n")
        (repo.root / "chutes" / "exits.py").write_text(ENDS)
        (repo.root / "chutes" / "hangs.py").write_text(HANGS)
        built = repo.cli("build", "--json", check=False)
        assert built.returncode == 1, built.stderr[-3000:]
        check_errors(built.stderr)
        images = summary(built)["images"]
        assert [row["chutes"] for row in images] == [[f"{repo.prefix}-one"]]
        assert images[0]["status"] == "built"

        up = repo.cli("up", "--target", "local", "--json", check=False)
        assert up.returncode == 1, up.stderr[-3000:]
        check_errors(up.stderr)
        rows = summary(up)["chutes"]
        assert [(r["chute"], bool(r.get("url"))) for r in rows] == [(f"{repo.prefix}-one", True)]
    finally:
        repo.cleanup()
