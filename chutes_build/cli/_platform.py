"""Platform commands: ``share``, ``keys``, ``register`` and ``warmup`` (the chutes.ai API).

Configuration is the SDK's config.ini (``CHUTES_CONFIG_PATH``), ``CHUTES_API_URL``
and ``CHUTES_API_KEY``. Secrets (the hotkey seed, API keys, the account
fingerprint) are never part of ``--json`` output.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import typer

from ._common import JSON, console, print_json, table

CONFIG = typer.Option(
    None,
    "--config-path",
    help="config.ini to use (default: $CHUTES_CONFIG_PATH or ~/.chutes/config.ini).",
)
API_KEY = typer.Option(None, "--api-key", help="An API key (cpk_...); default $CHUTES_API_KEY.")
ACTIONS = ("read", "write", "delete", "invoke")


def _run(settings_args: tuple[str | None, str | None], job: Callable[[Any], Awaitable[Any]]) -> Any:
    """Open a client with the configured settings and run ``job(client)`` under trio."""
    import trio

    from ..platform import ChutesClient, load_settings

    config_path, api_key = settings_args
    settings = load_settings(os.environ, path=config_path, api_key=api_key)

    async def main() -> Any:
        async with ChutesClient(settings) as client:
            return await job(client)

    return trio.run(main)


def _write_secret(path: str, secret: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(secret + "\n")


def share(
    chute: str = typer.Argument(..., help="Chute name or id (yours)."),
    user: str = typer.Option(..., "--user", help="User name or id to share with."),
    remove: bool = typer.Option(False, "--remove", help="Unshare instead."),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Share a chute with another user (or --remove the share)."""
    result = _run((config_path, api_key), lambda c: c.share_chute(chute, user, remove=remove))
    if as_json:
        print_json(result)
    else:
        console.print(result.get("status", result))


keys_app = typer.Typer(help="Create, list and delete API keys.", no_args_is_help=True)


def _scopes(
    images: bool,
    chutes: bool,
    image_ids: list[str],
    chute_ids: list[str],
    action: str | None,
    scopes_json: str | None,
) -> list[dict]:
    from ..core import DefinitionError

    if action is not None and action not in ACTIONS:
        raise DefinitionError(
            f"unknown action {action!r}",
            fix=f"use one of {', '.join(ACTIONS)}",
            file="<command line>",
        )
    if scopes_json:
        try:
            return list(json.loads(scopes_json)["scopes"])
        except (ValueError, KeyError, TypeError):
            raise DefinitionError(
                "--scopes-json must be a JSON object with a 'scopes' list",
                fix='e.g. --scopes-json \'{"scopes": [{"object_type": "chutes"}]}\'',
                file="<command line>",
            ) from None
    scopes: list[dict] = []
    for kind, whole, ids in (("images", images, image_ids), ("chutes", chutes, chute_ids)):
        if whole:
            scopes.append({"object_type": kind, "action": action})
        scopes += [{"object_type": kind, "object_id": i, "action": action} for i in ids]
    return scopes


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., help="A name for the key."),
    admin: bool = typer.Option(False, "--admin", help="Allow every action."),
    images: bool = typer.Option(False, "--images", help="Scope: all images."),
    chutes: bool = typer.Option(False, "--chutes", help="Scope: all chutes."),
    image_ids: list[str] = typer.Option([], "--image-id", help="Scope: one image (repeatable)."),
    chute_ids: list[str] = typer.Option([], "--chute-id", help="Scope: one chute (repeatable)."),
    action: str | None = typer.Option(None, "--action", help="read, write, delete or invoke."),
    scopes_json: str | None = typer.Option(None, "--scopes-json", help="Raw scopes document."),
    secret_file: str | None = typer.Option(
        None, "--secret-file", help="Write the new secret here (mode 0600)."
    ),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Create an API key. Its secret is shown once (or written to --secret-file)."""
    scopes = [] if admin else _scopes(images, chutes, image_ids, chute_ids, action, scopes_json)
    result = _run(
        (config_path, api_key), lambda c: c.create_api_key(name, admin=admin, scopes=scopes)
    )
    secret = result.pop("secret_key", None)
    if secret and secret_file:
        _write_secret(secret_file, secret)
    if as_json:
        print_json({**result, "secret_file": secret_file})
        return
    console.print(f"created API key {result.get('name')} ({result.get('api_key_id')})")
    if secret and not secret_file:
        console.print(
            f'secret (shown once): {secret}\nuse it as the header "Authorization: Basic {secret}"'
        )
    elif secret_file:
        console.print(f"secret written to {secret_file}")


@keys_app.command("list")
def keys_list(
    config_path: str | None = CONFIG, api_key: str | None = API_KEY, as_json: bool = JSON
) -> None:
    """List your API keys (never their secrets)."""
    result = _run((config_path, api_key), lambda c: c.list_api_keys())
    items = [
        {k: v for k, v in item.items() if k != "secret_key"} for item in result.get("items", [])
    ]
    if as_json:
        print_json({"total": result.get("total", len(items)), "items": items})
        return
    rows = table("id", "name", "admin", "scopes")
    for item in items:
        scopes = ", ".join(
            f"{s.get('object_type')}:{s.get('object_id') or '*'}:{s.get('method') or '*'}"
            for s in item.get("scopes") or []
        )
        rows.add_row(
            str(item.get("api_key_id")),
            str(item.get("name")),
            str(item.get("admin")),
            scopes or "-",
        )
    console.print(rows)


@keys_app.command("delete")
def keys_delete(
    api_key_id: str = typer.Argument(..., help="The key's name or id."),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Delete an API key."""
    from ..platform import delete_object

    result = _run((config_path, api_key), lambda c: delete_object(c, "api_keys", api_key_id))
    if as_json:
        print_json(result)
    else:
        console.print(f"deleted API key {api_key_id}")


def warmup(
    chute: str = typer.Argument(..., help="Chute name or id."),
    stream_logs: bool = typer.Option(
        False, "--stream-logs", help="Then follow every instance's log until its stream ends."
    ),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Warm a chute up (name, id, or chute file FILE.py:chute) and follow it until hot."""
    from ._account_cmds import chute_name

    chute = chute_name(chute)

    async def follow(client: Any) -> None:
        async for event in client.warmup(chute):
            if as_json:
                sys.stdout.write(json.dumps(event) + "\n")
                sys.stdout.flush()
            else:
                console.print(f"{event.get('status')}: {event.get('log') or ''}")
        if stream_logs:
            from ._account_cmds import follow_instance_logs

            await follow_instance_logs(client, chute, as_json)

    _run((config_path, api_key), follow)


def _registration_token(base_url: str, token: str | None) -> str:
    if token:
        return token
    if not base_url.startswith("https://api.chutes.ai"):
        return "replaceme"
    from ..platform import PlatformConfigError

    raise PlatformConfigError(
        "registering on the public platform needs a registration token",
        fix="get one at https://rtok.chutes.ai/users/registration_token and pass --token",
    )


def register_user(
    username: str = typer.Option(..., "--username", help="The username to register."),
    wallet: str | None = typer.Option(
        None, "--wallet", help="Wallet name (default: the only one)."
    ),
    hotkey: str | None = typer.Option(
        None, "--hotkey", help="Hotkey name (default: the only one)."
    ),
    wallets_path: str | None = typer.Option(
        None, "--wallets-path", help="Default: ~/.bittensor/wallets."
    ),
    token: str | None = typer.Option(None, "--token", help="Registration token (public platform)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config.ini."),
    fingerprint_file: str | None = typer.Option(
        None, "--fingerprint-file", help="Write the account fingerprint here (mode 0600)."
    ),
    config_path: str | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Register a user with a Bittensor hotkey and write config.ini (mode 0600)."""
    import dataclasses

    from ..core import WorkspaceError
    from ..platform import default_wallets_path, load_settings, read_wallet, write_config

    settings = load_settings(os.environ, path=config_path)
    target = settings.config_path or ""
    if os.path.exists(target) and not force:
        raise WorkspaceError(
            f"{target} already exists",
            file="<command line>",
            fix="pass --force to replace it, or --config-path for a new file",
        )
    found = read_wallet(wallets_path or default_wallets_path(), wallet, hotkey)
    token = _registration_token(settings.base_url, token)
    result = _run(
        (config_path, None),
        lambda c: c.register(
            username=username, coldkey=found.coldkey_ss58, signer=found.signer(), token=token
        ),
    )
    fingerprint = result.pop("fingerprint", None)
    saved = dataclasses.replace(
        settings,
        username=username,
        user_id=result["user_id"],
        hotkey_seed=found.hotkey_seed,
        hotkey_name=found.hotkey_name,
        hotkey_ss58address=found.hotkey_ss58,
        payment_address=result.get("payment_address"),
    )
    write_config(saved, target)
    if fingerprint and fingerprint_file:
        _write_secret(fingerprint_file, fingerprint)
    summary = {
        "user_id": result["user_id"],
        "username": username,
        "config_path": target,
        "payment_address": result.get("payment_address"),
        "hotkey": found.hotkey_ss58,
        "fingerprint_file": fingerprint_file,
    }
    if as_json:
        print_json(summary)
        return
    console.print(f"registered {username} (user_id={result['user_id']}); wrote {target}")
    console.print(f"to add balance, send tao to {result.get('payment_address')}")
    if fingerprint and not fingerprint_file:
        console.print(f"fingerprint (your login secret, shown once; keep it safe): {fingerprint}")


def register(app: typer.Typer) -> None:
    app.command("share")(share)
    app.add_typer(keys_app, name="keys")
    app.command("register")(register_user)
    app.command("warmup")(warmup)
