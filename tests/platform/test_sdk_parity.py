"""The reference SDK (chutes==0.6.9) against the stand-in, and our bodies against the SDK's.

This proves the stand-in accepts what the real client sends (signatures over
aiohttp's multipart and orjson bytes) and that our deploy body and upload form
carry the same fields as the SDK's. The SDK comes from scripts/sdk-venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from chutes_build.platform import deploy_body, write_config
from chutes_build.workspace._workspace import find_workspace, load_paths

from .conftest import settings_for
from .standin._multipart import parse_multipart

CHUTE_FILE = textwrap.dedent("""\
    from chutes.chute import Chute, NodeSelector
    from chutes.image import Image

    image = (
        Image(username="alice", name="parity", tag="0.1")
        .apt_install(["git"])
        .add("data.txt", "/app/data.txt")
    )
    chute = Chute(
        username="alice",
        name="parity-chute",
        image=image,
        tagline="hello",
        node_selector=NodeSelector(gpu_count=2, min_vram_gb_per_gpu=24),
        concurrency=3,
    )


    @chute.cord(public_api_path="/echo")
    async def echo(self, text: str) -> str:
        return text
""")


@pytest.fixture
def sdk_project(standin, tmp_path, sdk_python):
    (tmp_path / "my_chute.py").write_text(CHUTE_FILE)
    (tmp_path / "data.txt").write_text("data\n")
    config = tmp_path / "config.ini"
    write_config(settings_for(standin), str(config))
    chutes = os.path.join(os.path.dirname(sdk_python), "chutes")
    env = {**os.environ, "CHUTES_CONFIG_PATH": str(config), "CHUTES_API_URL": standin.url}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [chutes, *args],
            cwd=tmp_path,
            env=env,
            input="y\ny\n",
            capture_output=True,
            text=True,
            timeout=120,
        )

    return tmp_path, run


def _request(standin, method: str, path: str):
    return next(r for r in standin.state.requests if (r.method, r.path) == (method, path))


def test_sdk_build_and_deploy_are_accepted_and_match_our_bodies(standin, sdk_project):
    folder, run = sdk_project
    built = run("build", "my_chute:chute")
    assert "Uploaded image package" in built.stdout + built.stderr, built.stderr[-2000:]
    upload = _request(standin, "POST", "/images/")
    assert upload.status == 202
    form = parse_multipart(upload.body, upload.headers["content-type"])
    path = str(folder / "my_chute.py")
    loaded = load_paths(find_workspace(path), [path])[0]
    assert loaded.error is None, loaded.error
    ours = dict(loaded.chutes)["chute"]
    assert form["dockerfile"] == str(ours.image)
    assert list(form) == [
        "username",
        "name",
        "tag",
        "readme",
        "dockerfile",
        "public",
        "logo_id",
        "wait",
        "image",
        "build_context",
    ]

    deployed = run("deploy", "my_chute:chute", "--accept-fee")
    assert "Successfully deployed" in deployed.stdout + deployed.stderr, deployed.stderr[-2000:]
    sdk_body = json.loads(_request(standin, "POST", "/chutes/").body)
    body = deploy_body(
        ours,
        code=(folder / "my_chute.py").read_text(),
        filename="my_chute.py",
        ref_str="my_chute:chute",
    )
    assert list(body) == list(sdk_body)
    for key in body:
        if key != "cords":
            assert body[key] == sdk_body[key], key
    assert len(body["cords"]) == len(sdk_body["cords"]) == 1
    assert json.dumps(body["cords"]) == json.dumps(sdk_body["cords"])  # the SDK's key order too
    for key, value in sdk_body["cords"][0].items():
        assert body["cords"][0][key] == value, key


def test_sdk_share_is_accepted(standin, sdk_project):
    _, run = sdk_project
    alice = next(u for u in standin.state.users.values() if u.username == "alice")
    standin.state.chutes["c1"] = {
        "chute_id": "c1",
        "name": "shared",
        "user_id": alice.user_id,
        "public": False,
    }
    result = run("share", "--chute-id", "shared", "--user-id", "bob")
    record = _request(standin, "POST", "/chutes/share")
    assert record.status == 200, result.stderr[-2000:]
    assert record.body == b'{"chute_id_or_name":"shared","user_id_or_name":"bob"}'


def test_sdk_reference_python_is_real(sdk_python):
    out = subprocess.run(
        [sdk_python, "-c", "import chutes; print(chutes.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(out.stdout.strip()).parts[-2] == "chutes"
