"""``tag-from-key = true``: each image content is uploaded under its own tag."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from chutes_build.engine._chutes_target import TAG_RE, remote_tag, remote_uid
from tests.platform.standin._state import image_id_for

from ._workspace import posts

KEY = "0123456789abcdef0123456789abcdef"


def _enable(root) -> None:
    path = root / "pyproject.toml"
    path.write_text(path.read_text() + "tag-from-key = true\n")


def _tags(standin, name: str) -> set[str]:
    return {row.tag for row in standin.state.images.values() if row.name == name}


def _deployed(standin) -> list[dict]:
    return [json.loads(r.body) for r in standin.state.requests
            if r.method == "POST" and r.path == "/chutes/" and r.status == 200]  # fmt: skip


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("1.0", "1.0-01234567"), ("x" * 33, "x" * 24 + "-01234567"), ("ab", "ab-01234567")],
)
def test_keyed_tag_keeps_the_platform_tag_rule(tag, expected):
    keyed = remote_tag(tag, KEY, True)
    assert keyed == expected and TAG_RE.match(keyed) and len(keyed) <= 33
    assert remote_tag(tag, KEY, False) == tag


def test_remote_uid_is_the_platform_image_id():
    assert remote_uid("Alice", "Img", "1.0-ABC") == str(
        uuid.uuid5(uuid.NAMESPACE_OID, "alice/img:1.0-abc"))  # fmt: skip


def test_two_contents_of_one_name_tag_upload_under_distinct_tags(clone, standin):
    _enable(clone.root)
    first = clone.up("--accept-fee")["summary"]
    rows = {r["image"]: r for r in first["images"]}
    imga = rows["alice/imga:1.0"]
    assert imga["tag"] == f"1.0-{imga['key'][:8]}" and imga["state"] == "built"
    assert _tags(standin, "imga") == {imga["tag"]}
    uid = image_id_for("alice", "imga", imga["tag"])
    assert imga["uid"] == uid and imga["image_id"] == uid
    assert {b["name"]: b["image"] for b in _deployed(standin)}["alpha"] == uid

    (clone.root / "app" / "main.py").write_text("print('changed')\n")  # both images add app/
    second = clone.up()["summary"]
    assert not second["failed"], second["failed"]
    new = {r["image"]: r for r in second["images"]}["alice/imga:1.0"]
    assert new["tag"] != imga["tag"] and new["state"] == "built"
    assert _tags(standin, "imga") == {imga["tag"], new["tag"]}  # no 409: a new name:tag
    assert posts(standin, "/images/") == 4
    assert {r["chute"]: r["state"] for r in second["chutes"]} == {
        "alpha": "updated", "beta": "updated", "delta": "updated"}  # fmt: skip
    alpha = [b for b in _deployed(standin) if b["name"] == "alpha"][-1]
    assert alpha["image"] == image_id_for("alice", "imga", new["tag"])
    chute = next(c for c in standin.state.chutes.values() if c["name"] == "alpha")
    assert chute["image"]["tag"] == new["tag"]

    again = clone.up()["summary"]
    assert {r["state"] for r in again["images"]} == {"cached"}
    assert {r["state"] for r in again["chutes"]} == {"unchanged"}
    assert posts(standin, "/images/") == 4


def test_without_it_a_content_change_conflicts_and_the_fix_names_the_setting(clone, standin):
    clone.up("--accept-fee")
    (clone.root / "app" / "main.py").write_text("print('changed')\n")
    run = clone.up(ok=False)
    errors = [f["error"] for f in run["summary"]["failed"]]
    assert errors and all("already exists on the platform" in e for e in errors), errors
    assert all("tag-from-key = true" in e for e in errors)


def test_an_image_logo_change_is_a_new_keyed_tag(clone, standin):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
    (clone.root / "assets").mkdir()
    (clone.root / "assets" / "img.png").write_bytes(png)
    shared = clone.root / "common" / "images.py"
    shared.write_text(shared.read_text().replace(
        'tag=tag)', 'tag=tag, logo="../assets/img.png")'))  # fmt: skip
    _enable(clone.root)
    first = clone.up("--accept-fee")["summary"]
    (clone.root / "assets" / "img.png").write_bytes(png + b"v2")
    second = clone.up()["summary"]
    assert not second["failed"], second["failed"]
    before = {r["image"]: r["tag"] for r in first["images"]}
    after = {r["image"]: r["tag"] for r in second["images"]}
    assert all(before[name] != after[name] for name in before)
    latest = next(r for r in standin.state.logos.values() if r.data == png + b"v2")
    row = standin.state.images[image_id_for("alice", "imga", after["alice/imga:1.0"])]
    assert row.logo_id == latest.logo_id
    assert posts(standin, "/logos/") == 2
    assert re.fullmatch(r"1\.0-[0-9a-f]{8}", after["alice/imga:1.0"])
