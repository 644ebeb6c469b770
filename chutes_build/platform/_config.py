"""Platform settings: the SDK's ``~/.chutes/config.ini``, read once at an entry point.

The file format is the SDK's (``[api] base_url``; ``[auth] user_id, username,
hotkey_seed, hotkey_name, hotkey_ss58address``; ``[payment] address``).
``CHUTES_CONFIG_PATH`` moves the file, ``CHUTES_API_URL`` overrides the base URL
and ``CHUTES_API_KEY`` (or a flag) supplies an API key.

Secrets (the hotkey seed, API keys) never leave this struct through ``repr``,
:meth:`PlatformSettings.public` or an error message.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from ._errors import PlatformConfigError

__all__ = [
    "DEFAULT_API_URL",
    "PlatformSettings",
    "config_path",
    "load_settings",
    "render_config",
    "write_config",
]

DEFAULT_API_URL = "https://api.chutes.ai"
_SECRET_FIELDS = frozenset({"hotkey_seed", "api_key"})


@dataclasses.dataclass(frozen=True, repr=False)
class PlatformSettings:
    """Everything the client needs to talk to the platform as one user."""

    base_url: str = DEFAULT_API_URL
    user_id: str | None = None
    username: str | None = None
    hotkey_seed: str | None = None
    hotkey_name: str | None = None
    hotkey_ss58address: str | None = None
    payment_address: str | None = None
    api_key: str | None = None
    config_path: str | None = None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.public().items())
        return f"PlatformSettings({fields})"

    __str__ = __repr__

    def public(self) -> dict[str, object]:
        """The settings as plain data with every secret replaced by ``"***"`` (or None)."""
        out: dict[str, object] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = "***" if field.name in _SECRET_FIELDS and value else value
        return out

    @property
    def can_sign(self) -> bool:
        return bool(self.hotkey_seed and self.hotkey_ss58address)

    def require_credentials(self) -> None:
        """Raise a clear error unless a hotkey or an API key is configured."""
        if self.can_sign or self.api_key:
            return
        where = self.config_path or config_path({})
        raise PlatformConfigError(
            f"no chutes credentials: {where} has no [auth] hotkey_seed/hotkey_ss58address "
            "and CHUTES_API_KEY is not set",
            fix="run `chutes-build register` (or `chutes register`), point CHUTES_CONFIG_PATH "
            "at your config.ini, or export CHUTES_API_KEY",
        )


def config_path(env: Mapping[str, str]) -> str:
    """Where the config file lives: ``CHUTES_CONFIG_PATH`` or ``~/.chutes/config.ini``."""
    return env.get("CHUTES_CONFIG_PATH") or str(Path.home() / ".chutes" / "config.ini")


def _get(parser: configparser.ConfigParser, section: str, key: str) -> str | None:
    value = parser.get(section, key, fallback=None)
    return value.strip() or None if value is not None else None


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    path: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
) -> PlatformSettings:
    """Read the config file (a missing file is fine) and apply env and flag overrides.

    Precedence for the base URL: ``base_url`` argument, ``CHUTES_API_URL``,
    ``[api] base_url``, the public platform.
    """
    env = os.environ if env is None else env
    path = path or config_path(env)
    parser = configparser.ConfigParser(interpolation=None)
    if os.path.exists(path):
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise PlatformConfigError(
                f"cannot parse {path}: {type(exc).__name__}",
                fix="fix the file (INI format with [api] and [auth] sections) or re-register",
                file=path,
            ) from None
    seed = _get(parser, "auth", "hotkey_seed")
    return PlatformSettings(
        base_url=(
            base_url
            or env.get("CHUTES_API_URL")
            or _get(parser, "api", "base_url")
            or DEFAULT_API_URL
        ).rstrip("/"),
        user_id=_get(parser, "auth", "user_id"),
        username=_get(parser, "auth", "username"),
        hotkey_seed=seed.removeprefix("0x") if seed else None,
        hotkey_name=_get(parser, "auth", "hotkey_name"),
        hotkey_ss58address=_get(parser, "auth", "hotkey_ss58address"),
        payment_address=_get(parser, "payment", "address"),
        api_key=api_key or env.get("CHUTES_API_KEY") or None,
        config_path=path,
    )


def render_config(settings: PlatformSettings) -> str:
    """The config.ini text the SDK writes after registration."""
    lines = ["[api]", f"base_url = {settings.base_url}", "", "[auth]"]
    for key in ("username", "user_id", "hotkey_seed", "hotkey_name", "hotkey_ss58address"):
        lines.append(f"{key} = {getattr(settings, key) or ''}")
    lines += ["", "[payment]", f"address = {settings.payment_address or ''}", ""]
    return "\n".join(lines)


def write_config(settings: PlatformSettings, path: str) -> None:
    """Write ``config.ini`` atomically, readable by its owner only (mode 0600)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, render_config(settings).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
