"""Read a Bittensor wallet from disk for registration (CHUTES_API.md §8).

``<wallets>/<wallet>/coldkeypub.txt`` holds ``{"ss58Address": …}`` and
``<wallets>/<wallet>/hotkeys/<hotkey>`` holds ``{"ss58Address", "secretSeed"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ._errors import PlatformConfigError
from ._signing import Signer

__all__ = ["Wallet", "default_wallets_path", "list_hotkeys", "list_wallets", "read_wallet"]


def default_wallets_path() -> str:
    return str(Path.home() / ".bittensor" / "wallets")


@dataclass(frozen=True, repr=False)
class Wallet:
    """A wallet's coldkey address and one hotkey (its seed stays out of ``repr``)."""

    name: str
    hotkey_name: str
    coldkey_ss58: str
    hotkey_ss58: str
    hotkey_seed: str

    def __repr__(self) -> str:
        return f"Wallet({self.name}/{self.hotkey_name}, hotkey={self.hotkey_ss58})"

    def signer(self) -> Signer:
        return Signer(self.hotkey_seed, self.hotkey_ss58)


def list_wallets(wallets_path: str) -> list[str]:
    if not os.path.isdir(wallets_path):
        return []
    return sorted(
        e for e in os.listdir(wallets_path) if os.path.isdir(os.path.join(wallets_path, e))
    )


def list_hotkeys(wallets_path: str, wallet: str) -> list[str]:
    folder = os.path.join(wallets_path, wallet, "hotkeys")
    if not os.path.isdir(folder):
        return []
    return sorted(e for e in os.listdir(folder) if os.path.isfile(os.path.join(folder, e)))


def _only(options: list[str], what: str, where: str, flag: str) -> str:
    if len(options) == 1:
        return options[0]
    found = ", ".join(options) or "none"
    raise PlatformConfigError(
        f"cannot choose a {what} in {where} (found: {found})", fix=f"pass {flag} NAME"
    )


def _load_json(path: str, field: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise PlatformConfigError(
            f"no such wallet file: {path}", fix="check --wallets-path, --wallet and --hotkey"
        ) from None
    except (OSError, ValueError) as exc:
        raise PlatformConfigError(
            f"cannot read wallet file {path}: {type(exc).__name__}",
            fix="the file must be the JSON bittensor writes",
            file=path,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get(field), str):
        raise PlatformConfigError(
            f"wallet file {path} has no {field!r}",
            fix="the file must be the JSON bittensor writes",
            file=path,
        )
    return data


def read_wallet(wallets_path: str, wallet: str | None = None, hotkey: str | None = None) -> Wallet:
    """Load ``wallet``/``hotkey``; either may be omitted when there is exactly one."""
    wallet = wallet or _only(list_wallets(wallets_path), "wallet", wallets_path, "--wallet")
    hotkey = hotkey or _only(
        list_hotkeys(wallets_path, wallet),
        "hotkey",
        os.path.join(wallets_path, wallet, "hotkeys"),
        "--hotkey",
    )
    cold = _load_json(os.path.join(wallets_path, wallet, "coldkeypub.txt"), "ss58Address")
    hot = _load_json(os.path.join(wallets_path, wallet, "hotkeys", hotkey), "secretSeed")
    if not isinstance(hot.get("ss58Address"), str):
        raise PlatformConfigError(
            f"hotkey file of {wallet}/{hotkey} has no 'ss58Address'",
            fix="the file must be the JSON bittensor writes",
        )
    return Wallet(
        wallet,
        hotkey,
        cold["ss58Address"],
        hot["ss58Address"],
        hot["secretSeed"].removeprefix("0x"),
    )
