"""Account commands: ``startup-logs``, ``report``, ``login``, ``transfer-balance``, and the
instance-log follower behind ``warmup --stream-logs``.

Nothing here prompts: every input is an argument or option, so scripts can run
them, and every failure exits non-zero.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.markup import escape

from ._common import JSON, console, print_json
from ._platform import API_KEY, CONFIG, _run


def startup_logs(
    chute: str = typer.Argument(..., help="The chute's name or id (yours, private)."),
    instance: str | None = typer.Option(
        None, "--instance", "-i", help="The instance id (or its prefix)."
    ),
    latest: bool = typer.Option(False, "--latest", "-l", help="The newest session."),
    config_path: str | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Fetch and decrypt a private chute's startup logs (encrypted to your hotkey)."""
    from ..platform import fetch_startup_logs

    result = _run(
        (config_path, None),
        lambda c: fetch_startup_logs(c, chute, instance=instance, latest=latest),
    )
    if as_json:
        print_json(result)
        return
    console.print(f"startup log of instance {result['instance_id']}:", style="bold")
    for line in result["lines"]:
        console.print(escape(line), soft_wrap=True)


def report(
    invocation_id: str | None = typer.Argument(None, help="The invocation id to report."),
    reason: str = typer.Option(..., "--reason", help="What was wrong with it."),
    invocation_option: str | None = typer.Option(
        None, "--invocation-id", help="The invocation id (the SDK's spelling)."
    ),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Report a failed or bad invocation."""
    from ..core import DefinitionError
    from ..platform import report_invocation

    invocation_id = invocation_id or invocation_option
    if not invocation_id:
        raise DefinitionError("which invocation? none was given", file="<command line>",
                              fix="pass INVOCATION_ID (or --invocation-id ID)")  # fmt: skip

    result = _run((config_path, api_key), lambda c: report_invocation(c, invocation_id, reason))
    if as_json:
        print_json(result)
    else:
        console.print(str(result.get("status", result)))


def transfer_balance(
    user: str = typer.Argument(..., help="The receiving user's id or name."),
    amount: float | None = typer.Option(
        None, "--amount", help="How much (default: the whole balance)."
    ),
    config_path: str | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Transfer balance to another user."""
    from ..platform import transfer_balance as transfer

    result = _run((config_path, None), lambda c: transfer(c, user, amount))
    if as_json:
        print_json(result)
        return
    console.print(
        f"transferred ${float(result.get('transferred', 0)):.6f} to {user}; "
        f"your balance: ${float(result.get('from_balance', 0)):.6f}"
    )


def login(
    browser: bool = typer.Option(
        False, "--browser/--no-browser", help="Open the link in a web browser."
    ),
    wallet: str | None = typer.Option(
        None, "--wallet", help="Sign with this wallet's hotkey instead of config.ini's."
    ),
    hotkey: str | None = typer.Option(None, "--hotkey", help="The wallet's hotkey (if several)."),
    wallets_path: str | None = typer.Option(
        None, "--wallets-path", help="Default: ~/.bittensor/wallets."
    ),
    config_path: str | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Log in to the chutes.ai website with your hotkey: prints (or opens) a signed link."""
    from ..platform import default_wallets_path, login_url, read_wallet

    signer = None
    if wallet or hotkey:
        signer = read_wallet(wallets_path or default_wallets_path(), wallet, hotkey).signer()
    url = _run((config_path, None), lambda c: login_url(c, signer))
    if browser:
        import webbrowser

        webbrowser.open(url)
    if as_json:
        print_json({"url": url})
    else:
        console.print("open this link to log in (it is valid for a few minutes):")
        console.print(url, soft_wrap=True, markup=False)


def chute_name(ref: str) -> str:
    """The platform name of ``ref``: a chute file reference (``file:chute`` or
    ``FILE.py:chute``, as the SDK's warmup takes) is loaded for its chute's name; anything
    else is a name or id already."""
    if ":" not in ref:
        return ref
    from chutes_runtime import split_target

    if not os.path.isfile(split_target(ref)[0]):
        return ref
    from chutes_runtime import load_target

    return load_target(ref)[1].name


async def follow_instance_logs(client: Any, chute: str, as_json: bool) -> int:
    """Stream every instance's live log of ``chute`` (prefixed by a short instance id)
    until each stream ends; returns how many instances were followed."""
    import trio

    from ..platform import resolve_chute, stream_instance_logs

    row = await resolve_chute(client, chute)
    instances = [str(i["instance_id"]) for i in row.get("instances") or [] if i.get("instance_id")]

    async def one(instance_id: str) -> None:
        async for line in stream_instance_logs(client, instance_id):
            if as_json:
                sys.stdout.write(json.dumps({"instance_id": instance_id, "log": line}) + "\n")
            else:
                sys.stdout.write(f"[{instance_id[:8]}] {line}\n")
            sys.stdout.flush()

    try:
        async with trio.open_nursery() as nursery:
            for instance_id in instances:
                nursery.start_soon(one, instance_id)
    except BaseExceptionGroup as group:
        from ..engine import first_error as _first_error

        first = _first_error(group)
        if first is None:
            raise
        raise first from None
    return len(instances)


def register(app: typer.Typer) -> None:
    app.command("startup-logs")(startup_logs)
    app.command("report")(report)
    app.command("login")(login)
    app.command("transfer-balance")(transfer_balance)
