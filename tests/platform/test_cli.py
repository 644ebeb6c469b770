"""``share``, ``keys``, ``register`` and ``warmup`` against the stand-in (the command runs in
this process: the process boundary is not what these tests are about)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from chutes_build.platform import Signer, load_settings, write_config
from tests.conftest import CliResult, run_cli

from .conftest import ALICE_SEED, settings_for

SECRET_SEED = ALICE_SEED


def cli(standin, config: str, *args: str, env: dict | None = None) -> CliResult:
    full_env = {
        **os.environ,
        "CHUTES_API_URL": standin.url,
        "CHUTES_CONFIG_PATH": config,
        **(env or {}),
    }
    full_env.pop("CHUTES_API_KEY", None) if "CHUTES_API_KEY" not in (env or {}) else None
    result = run_cli(args, env=full_env)
    assert SECRET_SEED not in result.stdout + result.stderr
    return result


@pytest.fixture
def config(standin, tmp_path) -> str:
    path = str(tmp_path / "config.ini")
    write_config(settings_for(standin), path)
    return path


def _add_chute(standin, name: str = "echo-chute") -> dict:
    alice = next(u for u in standin.state.users.values() if u.username == "alice")
    chute = {
        "chute_id": f"id-{name}",
        "name": name,
        "user_id": alice.user_id,
        "public": False,
        "instances": [],
        "hot": False,
    }
    standin.state.chutes[chute["chute_id"]] = chute
    return chute


def test_share_and_unshare(standin, config):
    _add_chute(standin)
    shared = cli(standin, config, "share", "echo-chute", "--user", "bob", "--json")
    assert shared.returncode == 0, shared.stderr
    assert json.loads(shared.stdout)["status"].startswith("Successfully shared chute=id-echo-chute")
    bob = next(u for u in standin.state.users.values() if u.username == "bob")
    assert ("id-echo-chute", bob.user_id) in standin.state.shares
    human = cli(standin, config, "share", "echo-chute", "--user", "bob", "--remove")
    assert human.returncode == 0 and "Successfully unshared" in human.stdout
    assert standin.state.shares == set()


def test_share_errors_are_clean(standin, config):
    result = cli(standin, config, "share", "missing", "--user", "bob")
    assert result.returncode == 1
    assert result.stderr.startswith("error: POST /chutes/share: Chute not found")
    assert "Traceback" not in result.stderr


def test_keys_create_list_delete_and_use(standin, config, tmp_path):
    secret_file = str(tmp_path / "key.txt")
    created = cli(
        standin, config, "keys", "create", "ci", "--admin", "--secret-file", secret_file, "--json"
    )
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    secret = open(secret_file).read().strip()
    assert secret.startswith("cpk_") and secret not in created.stdout
    assert "secret_key" not in data and stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    listed = cli(standin, config, "keys", "list", "--json")
    assert [k["name"] for k in json.loads(listed.stdout)["items"]] == ["ci"]
    # the new key authenticates on its own (no hotkey in this config)
    empty = str(tmp_path / "empty.ini")
    by_key = cli(standin, empty, "keys", "list", "--json", env={"CHUTES_API_KEY": secret})
    assert by_key.returncode == 0, by_key.stderr
    assert secret not in by_key.stdout
    assert standin.state.requests[-1].headers["authorization"] == f"Basic {secret}"
    deleted = cli(standin, config, "keys", "delete", data["api_key_id"], "--json")
    assert json.loads(deleted.stdout) == {"api_key_id": data["api_key_id"], "deleted": True}


def test_keys_create_scoped_human_output_shows_secret_once(standin, config):
    result = cli(standin, config, "keys", "create", "reader", "--chutes", "--action", "read")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("cpk_") == 2  # the secret line and the header hint
    sent = json.loads(standin.state.requests[-1].body)
    assert sent == {
        "name": "reader",
        "admin": False,
        "scopes": [{"object_type": "chutes", "action": "read"}],
    }


def test_warmup_streams_until_hot(standin, config):
    _add_chute(standin)
    result = cli(standin, config, "warmup", "echo-chute", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["status"] for e in events] == ["cold", "cold", "hot"]


def _wallet(root, name="w1", hotkey="hk1", seed="44" * 32) -> Signer:
    signer = Signer(seed)
    cold = Signer("55" * 32)
    (root / name / "hotkeys").mkdir(parents=True)
    (root / name / "coldkeypub.txt").write_text(json.dumps({"ss58Address": cold.ss58_address}))
    (root / name / "hotkeys" / hotkey).write_text(
        json.dumps({"ss58Address": signer.ss58_address, "secretSeed": "0x" + seed})
    )
    return signer


def test_register_writes_a_0600_config(standin, tmp_path):
    signer = _wallet(tmp_path / "wallets")
    config = str(tmp_path / "new" / "config.ini")
    register = ("register", "--username", "carol", "--wallets-path", str(tmp_path / "wallets"))
    result = cli(standin, config, *register, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["username"] == "carol" and '"fingerprint":' not in result.stdout
    assert "44" * 32 not in result.stdout
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    saved = load_settings({"CHUTES_CONFIG_PATH": config})
    assert (saved.username, saved.user_id, saved.hotkey_seed) == (
        "carol",
        summary["user_id"],
        "44" * 32,
    )
    assert saved.hotkey_ss58address == signer.ss58_address
    record = next(r for r in standin.state.requests if r.path == "/users/register")
    assert record.query == "token=replaceme"
    assert json.loads(record.body)["coldkey"] == Signer("55" * 32).ss58_address
    again = cli(standin, config, *register)
    assert again.returncode == 1 and "already exists" in again.stderr
    me = cli(standin, config, "keys", "list", "--json")  # the new config signs requests
    assert me.returncode == 0, me.stderr


def test_register_needs_a_wallet_choice(standin, tmp_path):
    _wallet(tmp_path / "wallets", "w1")
    _wallet(tmp_path / "wallets", "w2")
    result = cli(
        standin,
        str(tmp_path / "c.ini"),
        "register",
        "--username",
        "dave",
        "--wallets-path",
        str(tmp_path / "wallets"),
    )
    assert result.returncode == 1
    assert "cannot choose a wallet" in result.stderr and "--wallet NAME" in result.stderr
