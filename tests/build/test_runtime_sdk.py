"""The runtime layer brings the SDK's packages a chute imports, and only then (issue 13).

An SDK chute file importing fastapi and pydantic runs under ``up --target local`` on the
plain Debian python base; a chute that imports neither gets a runtime layer without them.
A full disk while its wheels are fetched says so (issue 12).
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib

import httpx
import pytest
import trio

from chutes_build.core._errors import BuildError
from chutes_build.engine._runtime_layer import PythonInfo, runtime_wheels, sdk_pins
from chutes_build.engine._runtime_pins import SDK_MODULES, canonical, sdk_imports
from tests.conftest import REPO, require

from .conftest import make_monorepo

SDK_CHUTE = """\
from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from fastapi import HTTPException
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

image = (
    Image(username="t", name="{prefix}-sdk", tag="1")
    .from_base("parachutes/python:3.12")
    .run_command("echo sdk > /sdk")
)
selector = NodeSelector(gpu_count=1)
chute = Chute(username="t", name="{prefix}-sdk", image=image, node_selector=selector)


class Ask(BaseModel):
    name: str = Field(..., min_length=1)
    times: int = Field(1, ge=1)


@chute.cord(public_api_path="/hello")
async def hello(self, data: Ask) -> str:
    if data.name == "nobody":
        raise HTTPException(status_code=404, detail="nobody is here")
    return f"hello {{data.name}}"


@chute.cord(public_api_path="/source")
async def source(self, data: Ask) -> FileResponse:
    return FileResponse(__file__, media_type="text/plain")


@chute.cord(public_api_path="/parts")
async def parts(self, data: Ask) -> StreamingResponse:
    async def each():
        for i in range(data.times):
            yield f"{{i}}:{{data.name}}\\n"

    return StreamingResponse(each(), media_type="text/plain")
"""

FIND = "import importlib.util as u; print([m for m in ('fastapi', 'pydantic') if u.find_spec(m)])"


def _python(repo, image: str, code: str) -> str:
    proc = subprocess.run(
        [repo.docker, "run", "--rm", "--network=none", "--entrypoint",
         "/opt/chutes-runtime/bin/python", image, "-c", code],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_issue_13_sdk_modules_are_the_sdk_extra() -> None:
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as handle:
        extra = tomllib.load(handle)["project"]["optional-dependencies"]["sdk"]
    names = {canonical(re.split(r"[<>=!~;\[ ]", req)[0]) for req in extra}
    assert names == {canonical(d) for d in SDK_MODULES.values()}
    assert not names & {"graval", "substrate-interface", "hypercorn", "textual", "chutes"}


def test_issue_13_sdk_imports_are_read_from_the_code(tmp_path) -> None:
    one, two, none = tmp_path / "one.py", tmp_path / "two.py", tmp_path / "none.py"
    one.write_text("from fastapi.responses import FileResponse\nimport os, jwt as j\n")
    two.write_text("if True:\n    import pydantic.fields\nimport loguru  # logs\n")
    none.write_text("import msgspec\nfrom chutes.chute import Chute\ntext = 'fastapi'\n")
    assert sdk_imports([str(one), str(two)]) == ["fastapi", "loguru", "pydantic", "pyjwt"]
    assert sdk_imports([str(none), str(tmp_path / "gone.py")]) == []


def test_issue_13_sdk_pins_are_the_closure_without_the_dev_set() -> None:
    pins = sdk_pins(PythonInfo("3.11", "x86_64"), ("fastapi", "pydantic"))
    names = {pin.partition("==")[0] for pin in pins}
    assert {"fastapi", "pydantic", "pydantic-core", "annotated-types"} <= names
    assert not names & {"starlette", "typing-extensions", "msgspec", "uvicorn"}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 128 KiB tmpfs (mounting needs root, as CI runs)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(folder)],
                             capture_output=True, text=True)  # fmt: skip
    require(mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


def test_issue_12_a_full_disk_is_named_with_its_folder_and_free_space(tiny_disk) -> None:
    with pytest.raises(BuildError) as caught:
        trio.run(runtime_wheels, str(tiny_disk), PythonInfo("3.11", "x86_64"))
    message = str(caught.value)
    assert re.match(
        rf"^no space left on device while writing the runtime's wheels into "
        rf"{re.escape(str(tiny_disk))}/wheels\S* \(\d+ KiB free there\)\n  fix: free space ",
        message,
    ), message
    assert "package index" not in message


@pytest.mark.docker
def test_issue_13_an_sdk_chute_runs_on_the_plain_python_base(
    tmp_path, docker_engine, python_base_image
) -> None:
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["plain"])
    (repo.root / "chutes" / "sdk.py").write_text(SDK_CHUTE.format(prefix=repo.prefix))
    try:
        summary = repo.up()
        assert not summary["failed"], summary["failed"]
        assert summary["states"] == {"plain": "started", "sdk": "started"}
        url = repo.url("sdk")
        hello = httpx.post(url + "/hello", json={"name": "bob"}, timeout=30)
        assert (hello.headers["content-type"], hello.content) == (
            "application/json",
            b'"hello bob"',
        )
        nobody = httpx.post(url + "/hello", json={"name": "nobody"}, timeout=30)
        assert (nobody.status_code, nobody.json()) == (404, {"detail": "nobody is here"})
        assert httpx.post(url + "/hello", json={"name": ""}, timeout=30).status_code == 422
        source = httpx.post(url + "/source", json={"name": "x"}, timeout=30)
        assert source.text == (repo.root / "chutes" / "sdk.py").read_text()
        parts = httpx.post(url + "/parts", json={"name": "x", "times": 2}, timeout=30)
        assert parts.text == "0:x\n1:x\n"
        runtimes = sorted(t for t in summary["builds"] if t.startswith("chutes-build/runtime:"))
        found = sorted(_python(repo, tag, FIND) for tag in runtimes)
        assert found == ["['fastapi', 'pydantic']", "[]"]  # the plain chute's layer has neither
    finally:
        repo.cleanup()
