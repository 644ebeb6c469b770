"""Settings: the SDK's config.ini, env overrides, 0600 writes, and secrets kept out of output."""

from __future__ import annotations

import os
import stat

import pytest

from chutes_build.platform import (
    PlatformConfigError,
    PlatformSettings,
    load_settings,
    write_config,
)

SEED = "ab" * 32
INI = f"""[api]
base_url = https://api.example.test

[auth]
user_id = 1111
username = alice
hotkey_seed = 0x{SEED}
hotkey_name = default
hotkey_ss58address = 5Hot

[payment]
address = 5Pay
"""


def test_reads_the_sdk_format(tmp_path):
    path = tmp_path / "config.ini"
    path.write_text(INI)
    settings = load_settings({"CHUTES_CONFIG_PATH": str(path)})
    assert (settings.base_url, settings.username, settings.user_id) == (
        "https://api.example.test",
        "alice",
        "1111",
    )
    assert settings.hotkey_seed == SEED  # 0x stripped
    assert (settings.hotkey_ss58address, settings.payment_address) == ("5Hot", "5Pay")
    assert settings.api_key is None and settings.config_path == str(path)


def test_env_and_flags_override(tmp_path):
    path = tmp_path / "config.ini"
    path.write_text(INI)
    env = {
        "CHUTES_CONFIG_PATH": str(path),
        "CHUTES_API_URL": "http://127.0.0.1:9/",
        "CHUTES_API_KEY": "cpk_env",
    }
    settings = load_settings(env)
    assert (settings.base_url, settings.api_key) == ("http://127.0.0.1:9", "cpk_env")
    assert load_settings(env, api_key="cpk_flag").api_key == "cpk_flag"


def test_missing_file_gives_defaults_and_a_clear_error(tmp_path):
    settings = load_settings({"CHUTES_CONFIG_PATH": str(tmp_path / "none.ini")})
    assert settings.base_url == "https://api.chutes.ai" and not settings.can_sign
    with pytest.raises(PlatformConfigError, match=r"^no chutes credentials: .*none\.ini"):
        settings.require_credentials()


def test_written_config_is_0600_and_round_trips(tmp_path):
    path = tmp_path / "sub" / "config.ini"
    settings = PlatformSettings(
        base_url="http://x",
        user_id="u",
        username="alice",
        hotkey_seed=SEED,
        hotkey_name="hk",
        hotkey_ss58address="5Hot",
        payment_address="5Pay",
    )
    old = os.umask(0)
    try:
        write_config(settings, str(path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_settings({"CHUTES_CONFIG_PATH": str(path)})
    assert loaded.public() == {**settings.public(), "config_path": str(path)}
    assert loaded.hotkey_seed == SEED


def test_repr_and_public_never_show_secrets():
    settings = PlatformSettings(hotkey_seed=SEED, api_key="cpk_topsecret", username="alice")
    for text in (repr(settings), str(settings), str(settings.public()), f"{settings}"):
        assert SEED not in text and "topsecret" not in text
        assert "alice" in text
    assert settings.public()["hotkey_seed"] == "***"
    assert PlatformSettings().public()["api_key"] is None
