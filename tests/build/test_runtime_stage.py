"""The runtime stage: built once per Python and wheel set, copied into each chute image."""

from __future__ import annotations

import json
import subprocess
import uuid

import httpx
import pytest

from chutes_build.engine._runtime_layer import PythonInfo
from chutes_build.engine._runtime_stage import (
    STAGE_REPO,
    runtime_key,
    runtime_request,
    stage_key,
    stage_request,
)
from tests.build.conftest import make_monorepo

PY311, PY312 = PythonInfo("3.11", "x86_64"), PythonInfo("3.12", "x86_64")
WHEELS = {"msgspec-0.19-cp311.whl": "d1", "chutes_build-0.1-py3-none-any.whl": "d2"}
SITE = "/usr/local/lib/python3.11/dist-packages"


def test_issue_15_the_stage_key_holds_the_python_and_the_wheels_and_no_image() -> None:
    key = stage_key(PY311, WHEELS)
    assert stage_key(PY311, dict(reversed(WHEELS.items()))) == key  # order is not content
    assert stage_key(PY312, WHEELS) != key
    assert stage_key(PythonInfo("3.11", "aarch64"), WHEELS) != key
    assert stage_key(PythonInfo("3.11", "x86_64", "pypy"), WHEELS) != key
    assert stage_key(PY311, {**WHEELS, "msgspec-0.19-cp311.whl": "changed"}) != key
    assert stage_key(PY311, {**WHEELS, "fastapi-0.1-py3-none-any.whl": "d3"}) != key
    layer = runtime_key("image-a", PY311, WHEELS)
    assert runtime_key("image-b", PY311, WHEELS) != layer  # one runtime layer per image
    assert runtime_key("image-a", PY312, WHEELS) != layer  # ... and per stage
    assert runtime_key("image-a", PY311, dict(WHEELS)) == layer


def test_issue_15_the_runtime_layer_is_one_copy_of_the_stage() -> None:
    stage = f"{STAGE_REPO}:{stage_key(PY311, WHEELS)}"
    request = runtime_request("chutes-build/layer:abc", stage, "chutes-build/runtime:def", "none")
    copy = f"COPY --from={stage} /opt/chutes-runtime /opt/chutes-runtime"
    assert request.dockerfile() == f"FROM chutes-build/layer:abc\n{copy}\n"
    assert request.context == {}
    built = stage_request("chutes-build/layer:abc", {"a.whl": "/w/a.whl"}, stage, "none")
    text = built.dockerfile()
    assert "pip install" in text and "--target /opt/chutes-runtime/lib /tmp/wheels/a.whl" in text
    assert "--invalidation-mode unchecked-hash" in text
    assert text.endswith("FROM scratch\nCOPY --from=0 /opt/chutes-runtime /opt/chutes-runtime\n")
    assert built.context == {"wheels/a.whl": "/w/a.whl"}


def _dockerfiles(log: str) -> dict[str, list[str]]:
    """``{tag: Dockerfile lines}`` of every ``docker build`` the wrapper logged."""
    found: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in log.splitlines():
        words = line.split()
        if line.startswith("ARGV ") and "build" in words and "--iidfile" in words:
            lines = found.setdefault(words[words.index("-t") + 1], [])
        elif line.startswith("DF "):
            lines.append(line[3:])
    return found


def _since(repo, start: int) -> dict[str, list[str]]:
    with open(repo.log) as handle:
        handle.seek(start)
        return _dockerfiles(handle.read())


def _stages(builds: dict[str, list[str]]) -> list[str]:
    return [tag for tag in builds if tag.startswith(f"{STAGE_REPO}:")]


def _runtime_layers(builds: dict[str, list[str]]) -> dict[str, list[str]]:
    return {t: lines for t, lines in builds.items() if t.startswith("chutes-build/runtime:")}


@pytest.mark.docker
def test_issue_15_images_share_one_stage_and_an_image_edit_only_copies_it(
    tmp_path, docker_engine, python_base_image
) -> None:
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one", "two"])
    # two's image shadows msgspec (which the runtime imports) and brings a package of its own
    poison = (f"mkdir -p {SITE} && echo 'raise ImportError(1)' > {SITE}/msgspec.py && "
              f"echo VALUE = 7 > {SITE}/imagepkg.py")  # fmt: skip
    repo.write_chute("two", step=poison)
    try:
        first = repo.up()
        assert first["states"] == {"one": "started", "two": "started"}, first
        builds = _since(repo, 0)
        (stage,) = _stages(builds)  # one stage for both images
        runtimes = _runtime_layers(builds)
        assert len(runtimes) == 2
        copy = f"COPY --from={stage} /opt/chutes-runtime /opt/chutes-runtime"
        assert all(lines[1:] == [copy] for lines in runtimes.values()), runtimes
        answer = httpx.post(f"{repo.url('two')}/hello", json="hi", timeout=10).json()
        assert answer == {"chute": "two", "greeting": "hello", "text": "hi"}
        probe = "import imagepkg, msgspec; print(imagepkg.VALUE, msgspec.__file__)"
        container = repo.containers()["two"][0]
        out = subprocess.run([repo.docker, "exec", container, "/opt/chutes-runtime/bin/python",
                              "-c", probe], capture_output=True, text=True, check=True)  # fmt: skip
        assert out.stdout.split() == ["7", "/opt/chutes-runtime/lib/msgspec/__init__.py"]

        start = repo.log.stat().st_size
        repo.write_chute("one", step="echo edited > /app/name")
        second = repo.up()
        assert second["states"] == {"one": "restarted", "two": "unchanged"}
        rebuilt = _since(repo, start)
        assert _stages(rebuilt) == []  # the stage is built once
        (lines,) = _runtime_layers(rebuilt).values()
        assert lines[1:] == [copy] and not any("pip" in line for line in lines)
        assert httpx.post(f"{repo.url('one')}/hello", json="x", timeout=10).json()["chute"] == "one"

        leftover = f"{STAGE_REPO}:{uuid.uuid4().hex}"
        subprocess.run([repo.docker, "tag", stage, leftover], check=True)
        dry = json.loads(repo.cli("clean", "--dry-run", "--json").stdout)
        assert leftover in dry["removed"] and stage not in dry["removed"]
        subprocess.run([repo.docker, "rmi", leftover], check=True, capture_output=True)
    finally:
        repo.cleanup()
