"""Logos with ``up --target chutes``: uploaded once, sent with the image and the deploy."""

from __future__ import annotations

import json
import re

from tests.platform.standin._state import image_id_for

from ._workspace import CHUTE, posts

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
GIF = b"GIF89a" + b"\x01" * 24

SHARED_WITH_LOGO = """\
from chutes_build import Image

def image(name, tag="1.0"):
    logo = "../assets/img.gif" if name == "imgb" else None
    return (
        Image(username="alice", name=name, tag=tag, logo=logo)
        .apt_install(["git"])
        .add("../app", "/app")
        .run_command("pip install -r /app/requirements.txt")
    )
"""


def _with_logos(root) -> None:
    """alpha and beta show assets/chute.png; image imgb (delta's) shows assets/img.gif."""
    (root / "assets").mkdir()
    (root / "assets" / "chute.png").write_bytes(PNG)
    (root / "assets" / "img.gif").write_bytes(GIF)
    (root / "common" / "images.py").write_text(SHARED_WITH_LOGO)
    for name in ("alpha", "beta"):
        path = root / "chutes" / f"{name}.py"
        text = path.read_text().replace(
            "node_selector=", 'logo="../assets/chute.png",\n              node_selector='
        )
        path.write_text(text)


def _deploys(standin) -> dict[str, dict]:
    bodies = [json.loads(r.body) for r in standin.state.requests
              if r.method == "POST" and r.path == "/chutes/" and r.status == 200]  # fmt: skip
    return {b["name"]: b for b in bodies}


def test_logo_is_uploaded_once_and_sent_with_the_image_and_the_deploy(clone, standin):
    _with_logos(clone.root)
    first = clone.up("--accept-fee")["summary"]
    assert posts(standin, "/logos/") == 2  # one per logo content, though two chutes share one
    by_type = {row.content_type: row for row in standin.state.logos.values()}
    assert set(by_type) == {"image/png", "image/gif"}
    assert by_type["image/png"].data == PNG and by_type["image/png"].filename == "chute.png"
    png_id, gif_id = by_type["image/png"].logo_id, by_type["image/gif"].logo_id
    deployed = _deploys(standin)
    assert {n: b["logo_id"] for n, b in deployed.items()} == {
        "alpha": png_id, "beta": png_id, "delta": None}  # fmt: skip
    images = standin.state.images
    assert images[image_id_for("alice", "imgb", "1.0")].logo_id == gif_id
    assert images[image_id_for("alice", "imga", "1.0")].logo_id is None
    assert {r["state"] for r in first["logos"]} == {"uploaded"}

    again = clone.up("--accept-fee")["summary"]
    assert posts(standin, "/logos/") == 2
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 3)
    assert {r["state"] for r in again["logos"]} == {"cached"}
    assert {r["state"] for r in again["chutes"]} == {"unchanged"}


def test_logo_id_is_reused_from_the_cache_when_only_code_changes(clone, standin):
    _with_logos(clone.root)
    clone.up("--accept-fee")
    path = clone.root / "chutes" / "alpha.py"
    path.write_text(path.read_text().replace('GREETING = "hi "', 'GREETING = "hey "'))
    summary = clone.up()["summary"]
    assert posts(standin, "/logos/") == 2  # the recorded logo_id is sent, not a new upload
    assert {r["chute"]: r["state"] for r in summary["chutes"]}["alpha"] == "updated"
    alpha = [json.loads(r.body) for r in standin.state.requests
             if r.path == "/chutes/" and r.status == 200][-1]  # fmt: skip
    assert alpha["name"] == "alpha"
    assert alpha["logo_id"] == next(
        row.logo_id for row in standin.state.logos.values() if row.content_type == "image/png"
    )


def test_a_logo_change_redeploys_only_that_chute(clone, standin):
    _with_logos(clone.root)
    (clone.root / "assets" / "alpha.png").write_bytes(PNG + b"alpha")
    path = clone.root / "chutes" / "alpha.py"
    path.write_text(path.read_text().replace("assets/chute.png", "assets/alpha.png"))
    clone.up("--accept-fee")
    (clone.root / "assets" / "alpha.png").write_bytes(PNG + b"alpha, redrawn")

    plan = clone.plan()
    assert {r["chute"]: r["action"] for r in plan["chutes"]} == {
        "alpha": "update", "beta": "unchanged", "delta": "unchanged"}  # fmt: skip
    assert {r["action"] for r in plan["images"]} == {"cached"}
    assert [r["action"] for r in plan["logos"] if r["path"] == "assets/alpha.png"] == ["upload"]

    before = (posts(standin, "/images/"), posts(standin, "/chutes/"), posts(standin, "/logos/"))
    run = clone.up(ok=False)
    assert (posts(standin, "/images/"), posts(standin, "/chutes/"), posts(standin, "/logos/")) == (
        before[0], before[1] + 1, before[2] + 1)  # fmt: skip
    sent = json.loads([r for r in standin.state.requests if r.path == "/chutes/"][-1].body)
    new = next(r for r in standin.state.logos.values() if r.data == PNG + b"alpha, redrawn")
    assert (sent["name"], sent["logo_id"]) == ("alpha", new.logo_id)
    # The platform versions a chute by image and code only, so it refuses a logo-only
    # update of an existing chute (409); the error says so.
    error = run["summary"]["failed"][0]["error"]
    assert re.match(r"^chute alpha \(chutes/alpha\.py\): POST /chutes/: .* already exists", error)
    assert "nor a logo-only one" in error


def test_a_logo_with_a_new_chute_version_is_deployed(clone, standin):
    _with_logos(clone.root)
    clone.up("--accept-fee")
    (clone.root / "assets" / "alpha.png").write_bytes(PNG + b"alpha")
    path = clone.root / "chutes" / "alpha.py"
    text = path.read_text().replace("assets/chute.png", "assets/alpha.png")
    path.write_text(text.replace('GREETING = "hi "', 'GREETING = "hello "'))
    summary = clone.up()["summary"]
    assert {r["chute"]: r["state"] for r in summary["chutes"]} == {
        "alpha": "updated", "beta": "unchanged", "delta": "unchanged"}  # fmt: skip
    new = next(r for r in standin.state.logos.values() if r.data == PNG + b"alpha")
    chute = next(c for c in standin.state.chutes.values() if c["name"] == "alpha")
    assert chute["logo_id"] == new.logo_id


def test_a_bad_logo_path_is_a_clean_error_with_file_and_line(clone, standin):
    (clone.root / "chutes" / "alpha.py").write_text(
        CHUTE.format(name="alpha", image="imga", vram=16, greeting="hi ").replace(
            "min_vram_gb_per_gpu=16))", 'min_vram_gb_per_gpu=16),\n              logo="nope.png")'
        )
    )
    proc = clone.cli("up", "--target", "chutes", "--accept-fee")
    assert proc.returncode != 0
    assert re.search(r"chutes/alpha\.py:5: chute 'alpha': logo 'nope\.png' does not exist",
                     proc.stderr), proc.stderr  # fmt: skip
    assert "Traceback" not in proc.stderr
    assert posts(standin, "/logos/") == 0


def test_a_deleted_logo_is_a_clear_error_even_with_a_cached_snapshot(clone, standin):
    _with_logos(clone.root)
    clone.up("--accept-fee")
    (clone.root / "assets" / "chute.png").unlink()  # the chute files are unchanged
    proc = clone.cli("plan", "--target", "chutes")
    assert proc.returncode != 0
    assert re.search(r"chutes/alpha\.py: .*logo.*assets/chute\.png", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
