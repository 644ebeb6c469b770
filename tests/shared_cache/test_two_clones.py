"""Two clones of one monorepo, separate local caches, one shared nginx cache and platform."""

from __future__ import annotations

import pytest

from tests.chutes_target._workspace import (
    SEED,
    clone_of,
    posts,
    write_chute,
    write_config_for,
    write_workspace,
)
from tests.conftest import free_port

from .conftest import TEAM_KEY


@pytest.fixture
def clones(tmp_path, standin, nginx):
    source = write_workspace(tmp_path / "src")
    config = write_config_for(standin, tmp_path / "config.ini")
    env = {"CHUTES_BUILD_REMOTE_CACHE": nginx[0], "CHUTES_BUILD_CACHE_KEY": TEAM_KEY}
    return [clone_of(source, tmp_path / name, standin, config, env) for name in ("one", "two")]


def test_second_clone_builds_nothing_and_deploys_nothing(clones, standin, nginx):
    one, two = clones
    first = one.up("--accept-fee")["summary"]
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 3)
    assert first["remote_cache"]["pushed"] > 0
    second = two.up()["summary"]
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 3)
    assert {r["state"] for r in second["images"]} == {"cached"}
    assert {r["state"] for r in second["chutes"]} == {"unchanged"}
    assert second["remote_cache"]["pulled"] > 0 and second["remote_cache"]["rejected"] == 0
    plan = two.plan()
    assert plan["summary"]["images_to_build"] == 0
    for path in nginx[1].rglob("*"):
        if path.is_file() and ".nginx" not in path.parts:
            assert SEED.encode() not in path.read_bytes()


def test_editing_one_chute_in_the_second_clone_redeploys_only_it(clones, standin):
    one, two = clones
    one.up("--accept-fee")
    write_chute(two.root, "alpha", image="imga", vram=16, greeting="changed ")
    summary = two.up()["summary"]
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 4)
    assert {r["chute"]: r["state"] for r in summary["chutes"]} == {
        "alpha": "updated", "beta": "unchanged", "delta": "unchanged"}  # fmt: skip
    # ... and the first clone now learns that deploy from the shared cache.
    assert {r["state"] for r in one.up()["summary"]["chutes"]} == {"unchanged"}
    assert posts(standin, "/chutes/") == 4


def test_a_tampered_remote_entry_is_ignored(clones, standin, nginx):
    one, two = clones
    first = one.up("--accept-fee")["summary"]
    row = next(r for r in first["images"] if r["image"] == "alice/imga:1.0")
    entry = nginx[1] / "ac" / row["remote_key"]
    data = bytearray(entry.read_bytes())
    data[-3] ^= 0x01  # one flipped bit in the payload
    entry.write_bytes(bytes(data))
    second = two.up()["summary"]
    assert second["remote_cache"]["rejected"] == 1
    states = {r["image"]: r["state"] for r in second["images"]}
    # Not trusted: the image is checked on the platform again (the digest the team
    # recorded for that image id still makes it a hit, so nothing is uploaded).
    assert states == {"alice/imga:1.0": "found", "alice/imgb:1.0": "cached"}
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 3)


def test_the_cache_server_down_does_not_fail_the_build(tmp_path, standin):
    source = write_workspace(tmp_path / "src")
    config = write_config_for(standin, tmp_path / "config.ini")
    env = {"CHUTES_BUILD_REMOTE_CACHE": f"http://127.0.0.1:{free_port()}",
           "CHUTES_BUILD_CACHE_KEY": TEAM_KEY}  # fmt: skip
    clone = clone_of(source, tmp_path / "one", standin, config, env)
    summary = clone.up("--accept-fee")["summary"]
    assert {r["state"] for r in summary["chutes"]} == {"created"}
    assert summary["remote_cache"]["errors"] >= 1 and summary["remote_cache"]["pushed"] == 0
    assert clone.up()["summary"]["chutes"][0]["state"] == "unchanged"


def test_the_cache_url_can_come_from_the_workspace(tmp_path, standin, nginx):
    source = write_workspace(tmp_path / "src")
    with open(source / "pyproject.toml", "a") as handle:
        handle.write(f'remote-cache = "{nginx[0]}"\n')
    config = write_config_for(standin, tmp_path / "config.ini")
    env = {"CHUTES_BUILD_CACHE_KEY": TEAM_KEY}
    one, two = (clone_of(source, tmp_path / n, standin, config, env) for n in ("one", "two"))
    one.up("--accept-fee")
    assert {r["state"] for r in two.up()["summary"]["chutes"]} == {"unchanged"}
    assert posts(standin, "/chutes/") == 3
    no_key = clone_of(source, tmp_path / "three", standin, config)
    proc = no_key.cli("up", "--target", "chutes")
    assert proc.returncode != 0 and "no team key" in proc.stderr
