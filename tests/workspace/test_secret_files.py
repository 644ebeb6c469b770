"""The secret-file detector used before any build context is uploaded."""

from __future__ import annotations

import pytest

from chutes_build.workspace import secret_reason

KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.mark.parametrize(("path", "data", "reason"), [
    (".env", b"", "environment file"),
    ("app/.env.production", b"", "environment file"),
    ("home/.ssh/id_rsa", b"", "SSH private key"),
    ("id_ed25519", b"", "SSH private key"),
    ("tls/server.key", b"", "private key file"),
    ("tls/server.pem", b"-----BEGIN RSA PRIVATE KEY-----", "PEM file holding a PRIVATE KEY"),
    ("keys.txt", KEY, "PEM file holding a PRIVATE KEY"),
    (".chutes/config.ini", b"", "chutes SDK config.ini"),
    ("conf/config.ini", b"[auth]\nhotkey_seed = abc\n", "hotkey_seed"),
    (".aws/credentials", b"", "AWS credentials"),
    ("credentials", b"[default]\naws_secret_access_key = x", "AWS credentials"),
    ("sa.json", b'{"type": "service_account", "private_key": "x"}', "private_key"),
    ("wallets/w/hotkeys/default", b"", "Bittensor wallet key"),
    ("hot.json", b'{"secretSeed": "0x1"}', "Bittensor"),
    (".netrc", b"", "netrc"),
])  # fmt: skip
def test_secret_looking_files(path, data, reason):
    found = secret_reason(path, data)
    assert (found is None) if reason is None else (reason in found)


@pytest.mark.parametrize(("path", "data"), [
    (".env.example", b"TOKEN="),
    ("server.pem", b"-----BEGIN CERTIFICATE-----"),
    ("config.ini", b"[tool]\nx = 1\n"),
    ("app.py", KEY),  # source files are not scanned
    ("data.json", b'{"key": "value"}'),
])  # fmt: skip
def test_ordinary_files(path, data):
    assert secret_reason(path, data) is None


def test_content_is_read_lazily_and_only_for_suspicious_names():
    calls = []

    def read():
        calls.append(1)
        return b""

    assert secret_reason("model.safetensors", read) is None and calls == []
    assert secret_reason("x.pem", read) is None and calls == [1]
