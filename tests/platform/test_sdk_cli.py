"""The SDK's CLI surface under ``chutes-build`` against the stand-in: ``chutes``, ``images``,
``secrets``, ``keys get``, ``report``, ``transfer-balance`` and ``login`` (run in this
process; the process boundary is not what these tests are about). Each command has a
failing case that exits non-zero with a clean ``error:`` line."""

from __future__ import annotations

import json
import os
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import run_cli
from tests.platform.standin import ImageRow
from tests.platform.standin._state import chute_id_for, image_id_for

from .test_cli import cli, config  # noqa: F401  (the config fixture)


def _alice(standin):
    return next(u for u in standin.state.users.values() if u.username == "alice")


def add_image(standin, name="echo", tag="1.0", *, owner="alice", public=False) -> ImageRow:
    user = next(u for u in standin.state.users.values() if u.username == owner)
    row = ImageRow(image_id_for(owner, name, tag), user.user_id, owner, name, tag, "", public,
                   None, "FROM x", b"", "", status="built and pushed")  # fmt: skip
    standin.state.images[row.image_id] = row
    return row


def add_chute(standin, name="echo-chute", image: ImageRow | None = None, **extra) -> dict:
    image = image or add_image(standin)
    alice = _alice(standin).user_id
    chute = {"chute_id": chute_id_for("alice", name), "name": name, "user_id": alice,
             "public": False, "instances": [], "hot": False, "slug": f"alice-{name}",
             "image": image.response(), "version": str(uuid.uuid4()),
             "cords": [{"function": "echo", "path": "/echo", "input_schema": {"type": "object"}}],
             **extra}  # fmt: skip
    standin.state.chutes[chute["chute_id"]] = chute
    return chute


def ok(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_chutes_list_get_delete_by_name(standin, config):  # noqa: F811
    chute = add_chute(standin)
    listed = ok(cli(standin, config, "chutes", "list", "--json"))
    assert listed["total"] == 1
    assert listed["items"][0]["cords"] == [{"function": "echo", "path": "/echo"}]
    human = cli(standin, config, "chutes", "list")
    assert "echo-chute" in human.stdout and "1 of 1 chutes" in human.stdout
    assert ok(cli(standin, config, "chutes", "get", "echo-chute", "--json"))["chute_id"] == (
        chute["chute_id"])  # fmt: skip
    deleted = ok(cli(standin, config, "chutes", "delete", "echo-chute", "--json"))
    assert deleted == {"chute_id": chute["chute_id"], "deleted": True}
    # the platform deletes by UUID only: the name was resolved first
    delete = next(r for r in standin.state.requests if r.method == "DELETE")
    assert delete.path == f"/chutes/{chute['chute_id']}" and delete.status == 200
    missing = cli(standin, config, "chutes", "get", "echo-chute")
    assert missing.returncode == 1
    assert re.match(r"^error: no chute 'echo-chute' found \(yours", missing.stderr)
    assert "fix: list yours with `chutes-build chutes list`" in missing.stderr


def test_issue_18_images_get_and_delete_by_name(standin, config):  # noqa: F811
    """chutesai/chutes#29: ``images get/delete NAME`` fails on the platform, which matches a
    name only as ``name:tag``; a bare name with one tag is resolved through the list."""
    row = add_image(standin)
    add_image(standin, "other", "2.0")
    by_name = ok(cli(standin, config, "images", "get", "echo", "--json"))
    assert by_name["image_id"] == row.image_id
    by_tag = ok(cli(standin, config, "images", "get", "echo:1.0", "--json"))
    assert by_tag["image_id"] == row.image_id
    assert ok(cli(standin, config, "images", "get", row.image_id, "--json"))["name"] == "echo"
    names = [i["name"] for i in ok(cli(standin, config, "images", "list", "--json"))["items"]]
    assert sorted(names) == ["echo", "other"]
    deleted = ok(cli(standin, config, "images", "delete", "echo", "--json"))
    assert deleted["image_id"] == row.image_id and row.image_id not in standin.state.images


def test_images_ambiguous_name_and_in_use_fail(standin, config):  # noqa: F811
    add_image(standin, "echo", "1.0")
    add_image(standin, "echo", "2.0")
    ambiguous = cli(standin, config, "images", "delete", "echo")
    assert ambiguous.returncode == 1
    assert re.match(r"^error: image 'echo' has several tags \(1\.0, 2\.0\)", ambiguous.stderr)
    assert len(standin.state.images) == 2
    add_chute(standin, image=standin.state.images[image_id_for("alice", "echo", "2.0")])
    in_use = cli(standin, config, "images", "delete", "echo:2.0")
    assert in_use.returncode == 1
    assert re.match(r"^error: DELETE /images/\S+: Image is in use", in_use.stderr)


def test_secrets_create_list_get_delete_never_show_the_value(standin, config, tmp_path):  # noqa: F811
    add_chute(standin)
    value_file = tmp_path / "token"
    value_file.write_text("hf_SECRETVALUE\n")
    created = cli(standin, config, "secrets", "create", "--chute", "echo-chute", "--key",
                  "HF_TOKEN", "--value-file", str(value_file), "--json")  # fmt: skip
    secret = ok(created)
    assert secret["key"] == "HF_TOKEN" and "value" not in secret
    stored = standin.state.secrets[secret["secret_id"]]
    assert stored["_value"] == "hf_SECRETVALUE"
    again = cli(standin, config, "secrets", "create", "--chute", "echo-chute", "--key",
                "HF_TOKEN", "--value", "x")  # fmt: skip
    assert again.returncode == 1
    assert re.match(r"^error: POST /secrets/: A secret already exists", again.stderr)
    for args in (("list",), ("get", "HF_TOKEN"), ("get", secret["secret_id"]), ("list",)):
        result = cli(standin, config, "secrets", *args, "--json")
        assert "hf_SECRETVALUE" not in result.stdout and result.returncode == 0, result.stderr
    assert ok(cli(standin, config, "secrets", "get", "HF_TOKEN", "--json"))["purpose"] == (
        chute_id_for("alice", "echo-chute"))  # fmt: skip
    ok(cli(standin, config, "secrets", "delete", "HF_TOKEN", "--json"))
    assert standin.state.secrets == {}
    gone = cli(standin, config, "secrets", "get", "HF_TOKEN")
    assert gone.returncode == 1 and gone.stderr.startswith("error: no secret 'HF_TOKEN' found")
    no_chute = cli(standin, config, "secrets", "create", "--chute", "nope", "--key", "K",
                   "--value", "v")  # fmt: skip
    assert no_chute.returncode == 1
    assert no_chute.stderr.startswith("error: POST /secrets/: Did not find target chute nope")


def test_keys_get_and_delete_by_name(standin, config):  # noqa: F811
    made = ok(cli(standin, config, "keys", "create", "ci", "--admin", "--json"))
    shown = ok(cli(standin, config, "keys", "get", "ci", "--json"))
    assert shown["api_key_id"] == made["api_key_id"] and "secret_key" not in shown
    ok(cli(standin, config, "keys", "delete", "ci", "--json"))
    missing = cli(standin, config, "keys", "get", "ci")
    assert missing.returncode == 1 and missing.stderr.startswith("error: no api key 'ci' found")


def test_report_an_invocation_once(standin, config):  # noqa: F811
    standin.state.invocations["inv-1"] = _alice(standin).user_id
    result = ok(cli(standin, config, "report", "inv-1", "--reason", "garbled", "--json"))
    assert result["status"] == "report received for invocation_id='inv-1'"
    assert standin.state.reports == {"inv-1": "garbled"}
    twice = cli(standin, config, "report", "inv-1", "--reason", "again")
    assert twice.returncode == 1
    assert re.match(
        r"^error: POST /invocations/inv-1/report: .*409|^error: .*already", twice.stderr
    )
    unknown = cli(standin, config, "report", "--invocation-id", "inv-2", "--reason", "x")
    assert unknown.returncode == 1 and "Invocation not found" in unknown.stderr
    none = cli(standin, config, "report", "--reason", "x")
    assert none.returncode == 1
    assert re.match(r"^error: <command line>: which invocation\? none was given", none.stderr)


def test_transfer_balance(standin, config):  # noqa: F811
    alice, bob = _alice(standin), standin.state.user_by_id_or_name("bob")
    before = alice.balance
    result = ok(cli(standin, config, "transfer-balance", "bob", "--amount", "2.5", "--json"))
    assert result["transferred"] == 2.5 and alice.balance == before - 2.5
    assert bob.balance == 1002.5
    too_much = cli(standin, config, "transfer-balance", "bob", "--amount", "1e9")
    assert too_much.returncode == 1
    assert re.match(r"^error: Insufficient balance", too_much.stderr)
    nobody = cli(standin, config, "transfer-balance", "nobody")
    assert nobody.returncode == 1 and "Target user not found" in nobody.stderr


def test_login_link_carries_a_signature_the_platform_accepts(standin, config):  # noqa: F811
    result = ok(cli(standin, config, "login", "--json"))
    url = urlsplit(result["url"])
    assert f"{url.scheme}://{url.netloc}" == standin.url and url.path == "/idp/cli_login"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["hotkey"] == _alice(standin).hotkey
    answer = httpx.get(result["url"])
    assert answer.status_code == 200 and answer.json() == {"logged_in": "alice"}
    assert httpx.get(result["url"]).status_code == 401  # the nonce is single-use


def test_login_without_a_hotkey_fails(standin, tmp_path):
    result = cli(standin, str(tmp_path / "none.ini"), "login")
    assert result.returncode == 1
    assert re.match(r"^error: logging in needs a hotkey", result.stderr)


@pytest.mark.parametrize(
    "args",
    [("chutes", "list"), ("images", "list"), ("secrets", "list"), ("keys", "get", "x"),
     ("images", "get", "x:1"), ("transfer-balance", "bob")],
)  # fmt: skip
def test_issue_18_unauthenticated_calls_exit_non_zero(standin, tmp_path, args):
    """AffineFoundation/affine-cortex#6: the SDK logs a 401 and exits 0."""
    bad = tmp_path / "bad.ini"
    bad.write_text(f"[api]\nbase_url = {standin.url}\n[auth]\nuser_id = u\nusername = alice\n"
                   f"hotkey_seed = {'33' * 32}\nhotkey_name = d\n"
                   f"hotkey_ss58address = {_signer_address('33' * 32)}\n")  # fmt: skip
    result = cli(standin, str(bad), *args)
    assert result.returncode == 1
    assert re.match(r"^error: .*(Could not find user with hotkey|rejected the credentials)",
                    result.stderr)  # fmt: skip


def _signer_address(seed: str) -> str:
    from chutes_build.platform import Signer

    return Signer(seed).ss58_address


def test_startup_logs_decrypt_with_the_owners_hotkey(standin, config):  # noqa: F811
    from .standin._account import add_startup_log

    chute = add_chute(standin)
    add_startup_log(standin.state, chute["chute_id"], "inst-old", ["old line"])
    add_startup_log(standin.state, chute["chute_id"], "inst-new", ["booting", "ready on 8000"])
    several = cli(standin, config, "startup-logs", "echo-chute")
    assert several.returncode == 1
    assert re.match(r"^error: chute echo-chute has 2 startup log sessions", several.stderr)
    assert "fix: pass -l/--latest for the newest, or -i/--instance INSTANCE_ID" in several.stderr
    latest = ok(cli(standin, config, "startup-logs", "echo-chute", "-l", "--json"))
    assert latest == {"chute_id": chute["chute_id"], "instance_id": "inst-new",
                      "lines": ["booting", "ready on 8000"]}  # fmt: skip
    old = cli(standin, config, "startup-logs", chute["chute_id"], "-i", "inst-old")
    assert old.returncode == 0 and "old line" in old.stdout
    # the routes match the chute id exactly: the name was resolved first
    paths = [r.path for r in standin.state.requests if r.path.startswith("/encrypted_logs/")]
    assert all(p.startswith(f"/encrypted_logs/{chute['chute_id']}/") for p in paths)
    unknown = cli(standin, config, "startup-logs", "echo-chute", "-i", "inst-x")
    assert unknown.returncode == 1 and "has no startup log of instance inst-x" in unknown.stderr


def test_startup_logs_of_someone_elses_chute_fail(standin, config, tmp_path):  # noqa: F811
    from chutes_build.platform import write_config

    from .conftest import BOB_SEED, settings_for
    from .standin._account import add_startup_log

    chute = add_chute(standin)
    add_startup_log(standin.state, chute["chute_id"], "inst-1", ["secret boot line"])
    standin.state.shares.add((chute["chute_id"], standin.state.user_by_id_or_name("bob").user_id))
    bob = str(tmp_path / "bob.ini")
    write_config(settings_for(standin, "bob", BOB_SEED), bob)
    result = cli(standin, bob, "startup-logs", "echo-chute", "-l")
    assert result.returncode == 1 and "secret boot line" not in result.stdout
    assert re.match(r"^error: GET /encrypted_logs/\S+/sessions: Chute not found", result.stderr)


def test_warmup_stream_logs_follows_every_instance(standin, config):  # noqa: F811
    instances = [{"instance_id": "aaaaaaaa-1", "active": True}, {"instance_id": "bbbbbbbb-2"}]
    add_chute(standin, instances=instances)
    standin.state.instance_logs = {"aaaaaaaa-1": ["loading model", "ready"],
                                   "bbbbbbbb-2": ["loading model"]}  # fmt: skip
    result = cli(standin, config, "warmup", "echo-chute", "--stream-logs", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["status"] for e in events if "status" in e] == ["cold", "cold", "hot"]
    logs = sorted((e["instance_id"], e["log"]) for e in events if "log" in e and "status" not in e)
    assert logs == [("aaaaaaaa-1", "loading model"), ("aaaaaaaa-1", "ready"),
                    ("bbbbbbbb-2", "loading model")]  # fmt: skip
    human = cli(standin, config, "warmup", "echo-chute", "--stream-logs")
    assert "[aaaaaaaa] ready" in human.stdout


def test_warmup_stream_logs_of_a_public_chute_is_refused(standin, config):  # noqa: F811
    add_chute(standin, public=True, instances=[{"instance_id": "cccccccc-3"}])
    standin.state.instance_logs = {"cccccccc-3": ["x"]}
    result = cli(standin, config, "warmup", "echo-chute", "--stream-logs")
    assert result.returncode == 1
    assert re.match(r"^error: GET /instances/cccccccc-3/logs failed: HTTP 403", result.stderr)


def test_login_with_a_wallets_hotkey(standin, tmp_path):
    from .test_cli import _wallet

    signer = _wallet(tmp_path / "wallets")
    standin.state.add_user("carol", signer.ss58_address)
    result = ok(cli(standin, str(tmp_path / "none.ini"), "login", "--wallet", "w1",
                    "--wallets-path", str(tmp_path / "wallets"), "--json"))  # fmt: skip
    assert parse_qs(urlsplit(result["url"]).query)["hotkey"] == [signer.ss58_address]
    assert httpx.get(result["url"]).json() == {"logged_in": "carol"}


def test_warmup_takes_a_chute_file_reference_as_the_sdk_does(standin, config, tmp_path):  # noqa: F811
    add_chute(standin)
    (tmp_path / "my_chute.py").write_text(
        "from chutes_build import Chute, NodeSelector\n"
        "chute = Chute(username='alice', name='echo-chute', image='alice/echo:1.0',\n"
        "              node_selector=NodeSelector(gpu_count=1))\n"
    )
    result = run_cli(["warmup", "my_chute:chute", "--json"], cwd=tmp_path,
                     env={**os.environ, "CHUTES_API_URL": standin.url,
                          "CHUTES_CONFIG_PATH": config})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] == "hot"
    warmed = [r.path for r in standin.state.requests if r.path.startswith("/chutes/warmup/")]
    assert warmed == ["/chutes/warmup/echo-chute"]
