"""``up --target chutes`` and ``plan --target chutes`` as subprocesses against the stand-in."""

from __future__ import annotations

import io
import json
import re
import zipfile

from tests.platform.standin import ImageRow
from tests.platform.standin._state import image_id_for

from ._workspace import PREBUILT, posts, write_chute


def _bodies(standin, path: str) -> list[dict]:
    return [json.loads(r.body) for r in standin.state.requests
            if r.method == "POST" and r.path == path and r.status == 200]  # fmt: skip


def test_first_run_builds_each_image_once_and_a_rerun_is_a_no_op(clone, standin):
    first = clone.up("--accept-fee")["summary"]
    assert posts(standin, "/images/") == 2
    assert posts(standin, "/chutes/") == 3
    assert {r["image"]: r["state"] for r in first["images"]} == {
        "alice/imga:1.0": "built", "alice/imgb:1.0": "built"}  # fmt: skip
    assert {r["chute"]: r["state"] for r in first["chutes"]} == {
        "alpha": "created", "beta": "created", "delta": "created"}  # fmt: skip
    row = standin.state.images[image_id_for("alice", "imga", "1.0")]
    assert row.dockerfile == (
        "FROM parachutes/python:3.12\nRUN apt-get -y install git\nADD app /app\n"
        "RUN pip install -r /app/requirements.txt"
    )
    assert zipfile.ZipFile(io.BytesIO(row.context_zip)).namelist() == [
        "app/main.py", "app/requirements.txt"]  # fmt: skip
    deployed = {b["name"]: b for b in _bodies(standin, "/chutes/")}
    assert deployed["alpha"]["ref_str"] == "alpha:chute"
    assert deployed["alpha"]["filename"] == "alpha.py"
    assert deployed["alpha"]["code"] == (clone.root / "chutes" / "alpha.py").read_text()
    assert deployed["alpha"]["image"] == row.image_id

    again = clone.up("--accept-fee")["summary"]
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 3)
    assert {r["state"] for r in again["images"]} == {"cached"}
    assert {r["state"] for r in again["chutes"]} == {"unchanged"}


def test_editing_one_chute_redeploys_only_that_chute(clone, standin):
    clone.up("--accept-fee")
    write_chute(clone.root, "beta", image="imga", vram=24, greeting="hello ")
    summary = clone.up()["summary"]  # an update pays no fee
    assert (posts(standin, "/images/"), posts(standin, "/chutes/")) == (2, 4)
    assert {r["chute"]: r["state"] for r in summary["chutes"]} == {
        "alpha": "unchanged", "beta": "updated", "delta": "unchanged"}  # fmt: skip


def test_build_log_is_followed_into_the_progress_events(clone, standin):
    run = clone.up("--accept-fee")
    events = [e for e in run["events"] if e.get("node", "").startswith("image:")]
    assert {e["event"] for e in events} >= {"running", "done"}
    assert {e["label"] for e in events} == {"remote build alice/imga:1.0",
                                           "remote build alice/imgb:1.0"}  # fmt: skip


def test_new_chute_with_a_fee_is_refused_without_accept_fee(clone, standin):
    refused = clone.up("chutes/alpha.py", ok=False)
    assert refused["proc"].returncode != 0
    error = refused["summary"]["failed"][0]["error"]
    assert error.startswith("chute alpha (chutes/alpha.py): DEPLOYMENT FEE NOTICE:")
    assert "--accept-fee" in error
    assert posts(standin, "/chutes/") == 1 and not standin.state.chutes
    fee = float(re.search(r"is: \$([0-9.]+)", error).group(1))
    plan = clone.plan()
    alpha = next(r for r in plan["chutes"] if r["chute"] == "alpha")
    assert alpha["fee"] == fee
    accepted = clone.up("chutes/alpha.py", "--accept-fee")["summary"]
    assert accepted["chutes"][0]["state"] == "created"


def test_plan_lists_images_to_build_chutes_to_create_and_fees(clone, standin):
    plan = clone.plan()
    assert plan["summary"] == {"images_to_build": 2, "chutes_to_create": 3,
                               "chutes_to_update": 0, "deployment_fees": 2.85}  # fmt: skip
    assert {r["image"]: r["action"] for r in plan["images"]} == {
        "alice/imga:1.0": "build", "alice/imgb:1.0": "build"}  # fmt: skip
    assert {r["chute"]: (r["action"], r["fee"]) for r in plan["chutes"]} == {
        "alpha": ("create", 0.6), "beta": ("create", 0.75), "delta": ("create", 1.5)}  # fmt: skip
    assert standin.state.requests == []  # planning asks the platform nothing
    clone.up("--accept-fee")
    write_chute(clone.root, "delta", image="imgb", vram=48, greeting="yo ")
    after = clone.plan()
    assert after["summary"]["images_to_build"] == 0
    assert {r["chute"]: r["action"] for r in after["chutes"]} == {
        "alpha": "unchanged", "beta": "unchanged", "delta": "update"}  # fmt: skip
    human = clone.cli("plan", "--target", "chutes")
    assert "delta" in human.stdout and "update" in human.stdout


def test_same_name_and_tag_with_other_content_is_a_conflict(clone, standin, source, tmp_path):
    from ._workspace import clone_of

    clone.up("--accept-fee")
    other = clone_of(source, tmp_path / "other", standin, clone.config)
    (other.root / "app" / "main.py").write_text("print('changed')\n")
    run = other.up("chutes/alpha.py", "--accept-fee", ok=False)
    assert run["proc"].returncode != 0
    error = run["summary"]["failed"][0]["error"]
    assert re.match(r"^image alice/imga:1\.0 already exists on the platform with content "
                    r"this workspace did not record", error), error  # fmt: skip
    assert "tag='1.1'" in error
    assert posts(standin, "/images/") == 2


def test_prebuilt_image_reference_is_deployed_as_is(clone, standin):
    standin.state.images["pre"] = ImageRow(
        "pre", next(iter(standin.state.users.values())).user_id, "alice", "base", "1.0", "",
        False, None, "FROM x", b"", "", status="built and pushed",
    )  # fmt: skip
    (clone.root / "chutes" / "gamma.py").write_text(PREBUILT)
    summary = clone.up("chutes/gamma.py", "--accept-fee")["summary"]
    assert summary["images"] == [] and posts(standin, "/images/") == 0
    assert _bodies(standin, "/chutes/")[0]["image"] == "alice/base:1.0"
    assert summary["chutes"][0]["state"] == "created"


def test_file_names_the_platform_rejects_give_a_clear_error(clone, standin):
    (clone.root / "chutes" / "alpha.py").rename(clone.root / "chutes" / "Alpha-Chute.py")
    proc = clone.cli("up", "chutes/Alpha-Chute.py", "--target", "chutes")
    assert proc.returncode != 0
    assert re.search(r"chutes/Alpha-Chute\.py: chute alpha: the platform takes the chute "
                     r"file's name as the module of ref_str", proc.stderr), proc.stderr  # fmt: skip
    assert "rename the file to alpha_chute.py" in proc.stderr
    assert standin.state.requests == []


def test_public_flag_makes_images_and_chutes_public(clone, standin):
    next(iter(standin.state.users.values())).public_deploy = True
    clone.up("chutes/delta.py", "--accept-fee", "--public")
    assert standin.state.images[image_id_for("alice", "imgb", "1.0")].public
    assert _bodies(standin, "/chutes/")[0]["public"] is True


def test_settings_only_change_is_a_clear_409(clone, standin):
    # The selector comes from a local module: the chute file's code (all the platform
    # receives, and what it versions by) stays the same.
    (clone.root / "common" / "sizes.py").write_text("VRAM = 16\n")
    text = (clone.root / "chutes" / "alpha.py").read_text()
    text = text.replace("vram_gb_per_gpu=16", "vram_gb_per_gpu=VRAM")
    (clone.root / "chutes" / "alpha.py").write_text("from common.sizes import VRAM\n" + text)
    clone.up("chutes/alpha.py", "--accept-fee")
    (clone.root / "common" / "sizes.py").write_text("VRAM = 24\n")
    run = clone.up("chutes/alpha.py", ok=False)
    error = run["summary"]["failed"][0]["error"]
    assert re.match(
        r"^chute alpha \(chutes/alpha\.py\): POST /chutes/: Chute with name=alpha, "
        r"version=\S+ and public=False already exists",
        error,
    ), error
    assert "a settings-only change of an existing chute cannot be redeployed" in error


def test_unknown_hotkey_is_a_clear_401(clone, standin, tmp_path):
    from chutes_build.platform import PlatformSettings, Signer, write_config

    signer = Signer("77" * 32)
    write_config(PlatformSettings(base_url=standin.url, user_id="u", username="alice",
                                  hotkey_seed="77" * 32, hotkey_name="default",
                                  hotkey_ss58address=signer.ss58_address),
                 str(clone.config))  # fmt: skip
    run = clone.up("--accept-fee", ok=False)
    assert run["proc"].returncode == 1
    error = run["summary"]["failed"][0]["error"]
    assert re.match(r"^GET /images/\S+: the platform rejected the credentials: Could not find "
                    r"user with hotkey", error), error  # fmt: skip
    assert "77" * 32 not in run["proc"].stdout + run["proc"].stderr
