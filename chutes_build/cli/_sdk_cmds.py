"""The SDK's object commands: ``chutes``, ``images`` and ``secrets`` (list/get/delete, and
``secrets create``), plus ``keys get``.

Names or ids are accepted everywhere (resolved through the platform's list/get
routes); ``--json`` prints the platform's JSON with secret values removed; every
failure (401, 402, 404, 409, ...) is an error line and a non-zero exit. Deleting
asks nothing: the command is the confirmation (scripts need no ``yes |``).
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from ._common import JSON, console, print_json, table
from ._platform import API_KEY, CONFIG, _run, keys_app

NAME = typer.Option(None, "--name", help="Only objects whose name contains this.")
LIMIT = typer.Option(25, "--limit", help="Objects per page.")
PAGE = typer.Option(0, "--page", help="Page number (from 0).")
PUBLIC = typer.Option(False, "--include-public", help="Include public objects.")

#: Columns of the human tables: (header, field or function of the row).
COLUMNS: dict[str, list[tuple[str, Any]]] = {
    "chutes": [
        ("id", "chute_id"),
        ("name", "name"),
        ("status", lambda r: "hot" if r.get("hot") else "cold"),
        ("slug", "slug"),
        ("cords", lambda r: ", ".join(str(c.get("function")) for c in r.get("cords") or [])),
    ],
    "images": [
        ("id", "image_id"),
        ("name", "name"),
        ("tag", "tag"),
        ("status", "status"),
        ("public", "public"),
    ],
    "secrets": [
        ("id", "secret_id"),
        ("chute", "purpose"),
        ("key", "key"),
        ("created", "created_at"),
    ],
}


def _cell(row: dict, getter: Any) -> str:
    value = getter(row) if callable(getter) else row.get(getter)
    return escape("-" if value in (None, "") else str(value))


def _show_list(kind: str, data: dict, as_json: bool) -> None:
    if as_json:
        print_json(data)
        return
    rows = table(*(header for header, _ in COLUMNS[kind]))
    for item in data.get("items", []):
        rows.add_row(*(_cell(item, getter) for _, getter in COLUMNS[kind]))
    console.print(rows)
    shown, total = len(data.get("items", [])), data.get("total", 0)
    console.print(f"{shown} of {total} {kind} (page {data.get('page', 0)})")


def _show_one(kind: str, row: dict, as_json: bool) -> None:
    if as_json:
        print_json(row)
        return
    pairs = table("field", "value")
    for key, value in row.items():
        pairs.add_row(escape(key), escape(value if isinstance(value, str) else repr(value)))
    console.print(pairs)


def _settings(config_path: str | None, api_key: str | None) -> tuple[str | None, str | None]:
    return config_path, api_key


def _object_app(kind: str, noun: str, filters: bool = True) -> typer.Typer:
    """A ``list``/``get``/``delete`` group for one collection."""
    from ..platform import delete_object, get_object, list_objects

    group = typer.Typer(help=f"List, show and delete your {kind}.", no_args_is_help=True)

    if filters:

        @group.command("list")
        def list_cmd(
            name: str | None = NAME,
            limit: int = LIMIT,
            page: int = PAGE,
            include_public: bool = PUBLIC,
            config_path: str | None = CONFIG,
            api_key: str | None = API_KEY,
            as_json: bool = JSON,
        ) -> None:
            data = _run(
                _settings(config_path, api_key),
                lambda c: list_objects(
                    c, kind, name=name, limit=limit, page=page, include_public=include_public
                ),
            )
            _show_list(kind, data, as_json)

        list_cmd.__doc__ = f"List your {kind} (--include-public adds public ones)."
    else:

        @group.command("list")
        def list_plain(
            limit: int = LIMIT,
            page: int = PAGE,
            config_path: str | None = CONFIG,
            api_key: str | None = API_KEY,
            as_json: bool = JSON,
        ) -> None:
            data = _run(
                _settings(config_path, api_key),
                lambda c: list_objects(c, kind, limit=limit, page=page),
            )
            _show_list(kind, data, as_json)

        list_plain.__doc__ = f"List your {kind}."

    @group.command("get")
    def get_cmd(
        ref: str = typer.Argument(..., help=f"The {noun}'s name or id."),
        config_path: str | None = CONFIG,
        api_key: str | None = API_KEY,
        as_json: bool = JSON,
    ) -> None:
        _show_one(
            kind, _run(_settings(config_path, api_key), lambda c: get_object(c, kind, ref)), as_json
        )

    get_cmd.__doc__ = f"Show one {noun} by name or id."

    @group.command("delete")
    def delete_cmd(
        ref: str = typer.Argument(..., help=f"The {noun}'s name or id."),
        config_path: str | None = CONFIG,
        api_key: str | None = API_KEY,
        as_json: bool = JSON,
    ) -> None:
        result = _run(_settings(config_path, api_key), lambda c: delete_object(c, kind, ref))
        if as_json:
            print_json(result)
        else:
            console.print(f"deleted {noun} {result[_ID[kind]]}")

    delete_cmd.__doc__ = f"Delete one {noun} by name or id."
    return group


_ID = {"chutes": "chute_id", "images": "image_id", "secrets": "secret_id"}

chutes_app = _object_app("chutes", "chute")
images_app = _object_app("images", "image")
secrets_app = _object_app("secrets", "secret", filters=False)
secrets_app.info.help = "Create, list, show and delete secrets (environment variables of a chute)."


@secrets_app.command("create")
def secrets_create(
    chute: str = typer.Option(..., "--chute", "--purpose", help="The chute's name or id."),
    key: str = typer.Option(..., "--key", help="The environment variable's name."),
    value: str = typer.Option(
        None, "--value", help="Its value (default: read from --value-file or stdin)."
    ),
    value_file: str | None = typer.Option(None, "--value-file", help="Read the value from here."),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Create a secret for a chute. Its value is never printed."""
    from ..platform import create_secret

    if value is None:
        value = _read_value(value_file)
    result = _run(_settings(config_path, api_key), lambda c: create_secret(c, chute, key, value))
    if as_json:
        print_json(result)
    else:
        console.print(f"created secret {result.get('secret_id')} ({key}) for chute {chute}")


def _read_value(path: str | None) -> str:
    import sys

    from ..core import DefinitionError

    text = open(path, encoding="utf-8").read() if path else sys.stdin.read()
    text = text.rstrip("\n")
    if not text:
        raise DefinitionError(
            "the secret's value is empty",
            file=path or "<stdin>",
            fix="pass --value, --value-file FILE, or pipe the value in",
        )
    return text


@keys_app.command("get")
def keys_get(
    ref: str = typer.Argument(..., help="The key's name or id."),
    config_path: str | None = CONFIG,
    api_key: str | None = API_KEY,
    as_json: bool = JSON,
) -> None:
    """Show one API key by name or id (never its secret)."""
    from ..platform import get_object

    _show_one(
        "api_keys",
        _run(_settings(config_path, api_key), lambda c: get_object(c, "api_keys", ref)),
        as_json,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(chutes_app, name="chutes")
    app.add_typer(images_app, name="images")
    app.add_typer(secrets_app, name="secrets")
