"""``history`` and ``rollback`` against the stand-in: every ``up --target chutes`` deploy is
recorded in the workspace's cache, and a rollback posts a recorded deploy again without a
rebuild or an image upload (the CLI runs in this process)."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.chutes_target._workspace import posts, write_chute, write_config_for, write_workspace
from tests.conftest import run_cli
from tests.platform.standin._state import chute_id_for


@pytest.fixture
def ws(standin, tmp_path):
    root = write_workspace(tmp_path / "ws")
    config = write_config_for(standin, tmp_path / "config.ini")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
    env.update(CHUTES_API_URL=standin.url, CHUTES_CONFIG_PATH=str(config))

    def cli(*args: str):
        return run_cli(args, cwd=root, env=env)

    cli.root, cli.env = root, env
    return cli


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    return json.loads(result.stdout)


def _up(ws, *args: str) -> dict:
    result = ws("up", "--target", "chutes", "--json", *args)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    return json.loads(result.stdout.splitlines()[-1])["summary"]


def _deployed(standin, name: str) -> dict:
    return standin.state.chutes[chute_id_for("alice", name)]


def test_issue_18_rollback_redeploys_a_recorded_version_without_an_image_upload(ws, standin):
    _up(ws, "--accept-fee")
    first = _deployed(standin, "alpha")["version"]
    write_chute(ws.root, "alpha", image="imga", vram=16, greeting="hello ")
    _up(ws)
    second = _deployed(standin, "alpha")["version"]
    assert second != first

    history = _json(ws("history", "alpha", "--json"))
    deploys = history["deploys"]
    assert [d["version"] for d in deploys] == [first, second]
    assert {d["image"] for d in deploys} == {"alice/imga:1.0"}
    assert deploys[0]["code_digest"] != deploys[1]["code_digest"]
    assert all(d["who"].startswith("alice (") and d["time"].endswith("+00:00") for d in deploys)
    assert deploys[0]["key"] != deploys[1]["key"]
    human = ws("history", "alpha")
    assert human.returncode == 0 and deploys[0]["key"][:12] in human.stdout

    images_before, chutes_before = posts(standin, "/images/"), posts(standin, "/chutes/")
    rolled = _json(ws("rollback", "alpha", "--json"))
    assert rolled["state"] == "rolled back" and rolled["version"] == first
    assert posts(standin, "/images/") == images_before  # no image upload
    assert posts(standin, "/chutes/") == chutes_before + 1
    assert _deployed(standin, "alpha")["version"] == first
    posted = json.loads(standin.state.requests[-1].body)
    assert posted["code"].count('GREETING = "hi "') == 1

    after = _json(ws("history", "alpha", "--json"))["deploys"]
    assert len(after) == 3 and after[-1]["rollback_of"] == first
    plan = _json(ws("plan", "--target", "chutes", "--json"))
    alpha = next(r for r in plan["chutes"] if r["chute"] == "alpha")
    assert alpha["action"] == "update"  # the workspace's version is no longer the live one
    _up(ws)
    assert _deployed(standin, "alpha")["version"] == second
    assert posts(standin, "/images/") == images_before


def test_issue_15_history_is_readable_at_80_columns(ws, standin):
    _up(ws, "--accept-fee")
    deploys = _json(ws("history", "alpha", "--json"))["deploys"]
    human = run_cli(["history", "alpha"], cwd=ws.root, env=ws.env, width=80)
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, human.stdout
    row = next(line for line in lines if deploys[0]["key"][:12] in line)  # the key whole
    assert deploys[0]["time"] in row and "alice/imga:1.0" in row
    assert deploys[0]["version"][:8] in row


def test_rollback_to_a_key_and_to_the_live_version(ws, standin):
    _up(ws, "--accept-fee")
    write_chute(ws.root, "beta", image="imga", vram=24, greeting="yo ")
    _up(ws)
    deploys = _json(ws("history", "beta", "--json"))["deploys"]
    live = ws("rollback", "beta", "--to", deploys[-1]["key"][:12], "--json")
    assert _json(live)["state"] == "unchanged"
    by_key = _json(ws("rollback", "beta", "--to", deploys[0]["key"][:12], "--json"))
    assert by_key["version"] == deploys[0]["version"]
    write_chute(ws.root, "beta", image="imga", vram=24)  # the first version's source again
    assert {r["chute"]: r["state"] for r in _up(ws)["chutes"]}["beta"] == "unchanged"
    forward = _json(ws("rollback", "beta", "--to", deploys[1]["version"][:8], "--json"))
    assert forward["version"] == deploys[1]["version"] == _deployed(standin, "beta")["version"]
    assert {r["chute"]: r["state"] for r in _up(ws)["chutes"]}["beta"] == "updated"
    assert _deployed(standin, "beta")["version"] == deploys[0]["version"]


def test_rollback_failures_exit_non_zero(ws, standin):
    never = ws("rollback", "alpha")
    assert never.returncode == 1
    assert re.match(r"^error: no deploy of chute 'alpha' is recorded in this cache", never.stderr)
    _up(ws, "--accept-fee")
    only = ws("rollback", "alpha")
    assert only.returncode == 1 and re.match(r"^error: chute 'alpha' has only one", only.stderr)
    unknown = ws("rollback", "alpha", "--to", "ffff")
    assert unknown.returncode == 1
    assert re.match(r"^error: chute 'alpha' has no recorded deploy 'ffff'", unknown.stderr)
    write_chute(ws.root, "alpha", image="imga", vram=16, greeting="hello ")
    _up(ws)
    image_id = _json(ws("history", "alpha", "--json"))["deploys"][0]["image_id"]
    for chute in list(standin.state.chutes.values()):
        chute["image"] = {"image_id": "elsewhere"}  # let the image be deleted
    del standin.state.images[image_id]
    gone = ws("rollback", "alpha")
    assert gone.returncode == 1
    assert re.match(r"^error: image alice/imga:1\.0 \(\S+\) of that deploy no longer exists",
                    gone.stderr)  # fmt: skip


def test_issue_18_up_exits_non_zero_on_401_402_409(ws, standin, tmp_path):
    """AffineFoundation/affine-cortex#6: the SDK's build and deploy exit 0 on these."""
    from tests.platform.standin import ImageRow
    from tests.platform.standin._state import image_id_for

    fee = ws("up", "--target", "chutes", "chutes/alpha.py")  # 402: the fee is not accepted
    assert fee.returncode == 1 and "DEPLOYMENT FEE NOTICE" in fee.stderr
    taken = ImageRow(image_id_for("alice", "imgb", "1.0"), "another-alice", "alice", "imgb", "1.0",
                     "", False, None, "FROM x", b"", "", status="built and pushed")  # fmt: skip
    standin.state.images[taken.image_id] = taken
    conflict = ws("up", "--target", "chutes", "--accept-fee", "chutes/delta.py")  # 409
    assert conflict.returncode == 1
    assert "POST /images/: Image with name=imgb and tag=1.0 aready exists" in conflict.stderr
    stranger = tmp_path / "stranger.ini"
    stranger.write_text(f"[api]\nbase_url = {standin.url}\n[auth]\nuser_id = u\n"
                        f"username = alice\nhotkey_seed = {'77' * 32}\nhotkey_name = d\n"
                        f"hotkey_ss58address = {_address('77' * 32)}\n")  # fmt: skip
    unknown = run_cli(["up", "--target", "chutes", "--accept-fee"], cwd=ws.root,
                      env={**ws.env, "CHUTES_CONFIG_PATH": str(stranger)})  # fmt: skip
    assert unknown.returncode == 1
    assert "Could not find user with hotkey" in unknown.stderr + unknown.stdout


def _address(seed: str) -> str:
    from chutes_build.platform import Signer

    return Signer(seed).ss58_address
