"""Detect files that look like secrets before they are put in a build context.

Used by the remote (chutes API) context builder and meant for the local
BuildKit context builder too: it imports nothing beyond the standard library.
A file the user named explicitly is their decision; everything matched only by
a glob or a folder is refused when :func:`secret_reason` returns a reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

__all__ = ["secret_reason"]

_ENV_OK = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
_SSH_KEYS = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
)
_NAMED = {
    ".netrc": "a netrc file (login passwords)",
    ".git-credentials": "git credentials",
    ".pypirc": "a PyPI upload config",
}
_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
#: Extensions of PEM files that may hold a private key.
_PEM_EXTENSIONS = (".pem", ".crt", ".cer", ".txt")
#: Only files with these extensions (or named ``credentials``) have their content read.
_READ_EXTENSIONS = (*_PEM_EXTENSIONS, ".json", ".ini")
_CONTENT_LIMIT = 1 << 20


def _content_reason(name: str, data: bytes) -> str | None:
    if _PRIVATE_KEY.search(data) and name.endswith(_PEM_EXTENSIONS):
        return "a PEM file holding a PRIVATE KEY"
    if name.endswith(".json"):
        if b'"private_key"' in data:
            return "a cloud credential JSON (private_key)"
        if b'"secretSeed"' in data:
            return "a Bittensor wallet key (secretSeed)"
    if name.endswith(".ini") and re.search(rb"(?m)^\s*hotkey_seed\s*=", data):
        return "a chutes config.ini holding a hotkey_seed"
    if name == "credentials" and b"aws_secret_access_key" in data:
        return "AWS credentials"
    return None


def secret_reason(relpath: str, read: Callable[[], bytes] | bytes | None = None) -> str | None:
    """Why ``relpath`` looks like a secret, or None.

    ``read`` gives the file's bytes (or a callable returning them); only small
    files with a suspicious name or extension are read.
    """
    parts = relpath.replace(os.sep, "/").split("/")
    name = parts[-1].lower()
    if name == ".env" or (name.startswith(".env.") and name not in _ENV_OK):
        return "an environment file (.env*)"
    if name in _SSH_KEYS:
        return "an SSH private key"
    if name.endswith(".key"):
        return "a private key file (*.key)"
    if name in _NAMED:
        return _NAMED[name]
    if len(parts) >= 2 and parts[-2] == ".aws" and name in {"credentials", "config"}:
        return "AWS credentials"
    if name == "coldkey" or (len(parts) >= 2 and parts[-2] == "hotkeys"):
        return "a Bittensor wallet key file"
    if name == "config.ini" and len(parts) >= 2 and parts[-2] == ".chutes":
        return "the chutes SDK config.ini (hotkey seed)"
    if not name.endswith(_READ_EXTENSIONS) and name != "credentials":
        return None
    if read is None:
        return None
    try:
        data = read() if callable(read) else read
    except OSError:
        return None
    return _content_reason(name, data[:_CONTENT_LIMIT])
