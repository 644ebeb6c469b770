"""Account operations the SDK's CLI offers: list/get/delete chutes and images, secrets,
API keys by name, invocation reports, balance transfers and the browser login.

Each function takes a :class:`ChutesClient` and plain arguments and returns the
platform's JSON (secret values removed). Names and ids are accepted everywhere:
a name is resolved through the platform's own list/get routes first, because
some routes take only an id (``DELETE /chutes/{id}`` wants a UUID, the
encrypted-log routes match ``chute_id`` exactly) and ``/images/{ref}`` matches
a name only as ``[user/]name:tag``. Every failure is raised as a
:class:`PlatformError` (so the CLI exits non-zero), never logged and ignored.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from ._client import ChutesClient
from ._errors import PlatformError, PlatformNotFound
from ._signing import Signer

__all__ = [
    "KINDS",
    "create_secret",
    "delete_object",
    "get_object",
    "is_uuid",
    "list_objects",
    "login_url",
    "redact",
    "report_invocation",
    "resolve_api_key",
    "resolve_chute",
    "resolve_image",
    "resolve_secret",
    "transfer_balance",
]

#: Collections and the purpose their GET/DELETE routes sign (CHUTES_API.md §1.1).
KINDS = {"chutes": "chutes", "images": "images", "secrets": "secrets", "api_keys": "api_keys"}
#: Fields never printed, whatever a server sends back.
SECRET_FIELDS = frozenset({"value", "secret_key", "hotkey_seed", "fingerprint"})


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def redact(data: Any) -> Any:
    """``data`` without secret fields, at any depth."""
    if isinstance(data, dict):
        return {k: redact(v) for k, v in data.items() if k not in SECRET_FIELDS}
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data


async def list_objects(
    client: ChutesClient,
    kind: str,
    *,
    name: str | None = None,
    limit: int = 25,
    page: int = 0,
    include_public: bool | None = None,
) -> dict:
    """``GET /{kind}/``: ``{"total", "page", "limit", "items"}`` (chutes get their cords)."""
    params = {"limit": str(limit), "page": str(page)}
    if name:
        params["name"] = name
    if include_public is not None:
        params["include_public"] = "true" if include_public else "false"
    data = await client.request("GET", f"/{kind}/", purpose=KINDS[kind], params=params)
    refs = data.pop("cord_refs", None) or {}
    for item in data.get("items", []):
        if kind == "chutes" and item.get("cords") is None:
            item["cords"] = refs.get(item.get("cord_ref_id"), [])
    return redact(data)


async def get_object(client: ChutesClient, kind: str, ref: str) -> dict:
    """One chute, image, secret or API key by name or id."""
    resolver = {
        "chutes": resolve_chute,
        "images": resolve_image,
        "secrets": resolve_secret,
        "api_keys": resolve_api_key,
    }[kind]
    return redact(await resolver(client, ref))


async def delete_object(client: ChutesClient, kind: str, ref: str) -> dict:
    """Resolve ``ref`` to its id, then ``DELETE /{kind}/{id}``."""
    row = await get_object(client, kind, ref)
    object_id = row[_ID_FIELD[kind]]
    answer = await client.request("DELETE", f"/{kind}/{object_id}", purpose=KINDS[kind])
    return {**(answer or {}), _ID_FIELD[kind]: object_id, "deleted": True}


_ID_FIELD = {
    "chutes": "chute_id",
    "images": "image_id",
    "secrets": "secret_id",
    "api_keys": "api_key_id",
}


def _not_found(kind: str, ref: str, fix: str) -> PlatformNotFound:
    return PlatformNotFound(
        f"no {kind} {ref!r} found (yours, shared with you, or public)", status=404, fix=fix
    )


async def resolve_chute(client: ChutesClient, ref: str) -> dict:
    """``GET /chutes/{ref}`` (the platform matches an id or a ``[user/]name``)."""
    row = await client.request("GET", f"/chutes/{ref}", purpose="chutes", missing_ok=True)
    if row is None:
        raise _not_found("chute", ref, "list yours with `chutes-build chutes list`")
    return row


async def resolve_image(client: ChutesClient, ref: str) -> dict:
    """An image by id, ``[user/]name:tag``, or a bare ``[user/]name`` that has one tag."""
    if is_uuid(ref) or ":" in ref:
        row = await client.request("GET", f"/images/{ref}", purpose="images", missing_ok=True)
        if row is None:
            raise _not_found("image", ref, "list yours with `chutes-build images list`")
        return row
    owner, _, name = ref.rpartition("/")
    listed = await list_objects(client, "images", name=name, limit=100, include_public=bool(owner))
    rows = [
        r
        for r in listed.get("items", [])
        if str(r.get("name", "")).lower() == name.lower()
        and (not owner or _owner(r).lower() == owner.lower())
    ]
    if not rows:
        raise _not_found("image", ref, "list yours with `chutes-build images list`")
    if len(rows) > 1:
        tags = ", ".join(sorted(str(r.get("tag")) for r in rows))
        raise PlatformError(
            f"image {ref!r} has several tags ({tags})",
            status=409,
            fix=f"name one, e.g. {ref}:{rows[0].get('tag')}, or pass the image id",
        )
    return await client.request("GET", f"/images/{rows[0]['image_id']}", purpose="images")


def _owner(row: dict) -> str:
    user = row.get("user")
    if isinstance(user, dict) and user.get("username"):
        return str(user["username"])
    return str(row.get("short_tag", "")).partition("/")[0]


async def _by_id_or_field(client: ChutesClient, kind: str, ref: str, field: str) -> dict:
    if is_uuid(ref):
        row = await client.request("GET", f"/{kind}/{ref}", purpose=KINDS[kind], missing_ok=True)
        if row is not None:
            return row
    listed = await client.request(
        "GET", f"/{kind}/", purpose=KINDS[kind], params={"limit": "100", "page": "0"}
    )
    rows = [r for r in listed.get("items", []) if r.get(field) == ref]
    singular = kind.rstrip("s").replace("_", " ")
    if not rows:
        raise _not_found(singular, ref, f"list them with `chutes-build {_CLI[kind]} list`")
    if len(rows) > 1:
        ids = ", ".join(str(r[_ID_FIELD[kind]]) for r in rows)
        raise PlatformError(
            f"{len(rows)} {kind} are named {ref!r} ({ids})",
            status=409,
            fix=f"pass the id of the {singular} you mean",
        )
    return rows[0]


_CLI = {"secrets": "secrets", "api_keys": "keys"}


async def resolve_secret(client: ChutesClient, ref: str) -> dict:
    """A secret by id, or by its key when one secret has that key."""
    return await _by_id_or_field(client, "secrets", ref, "key")


async def resolve_api_key(client: ChutesClient, ref: str) -> dict:
    """An API key by id or by name."""
    return await _by_id_or_field(client, "api_keys", ref, "name")


async def create_secret(client: ChutesClient, chute: str, key: str, value: str) -> dict:
    """``POST /secrets/``: a secret environment variable for one chute (name or id)."""
    body = {"purpose": chute, "key": key, "value": value}
    return redact(await client.request("POST", "/secrets/", json_body=body))


async def report_invocation(client: ChutesClient, invocation_id: str, reason: str) -> dict:
    """``POST /invocations/{id}/report`` with the reason."""
    return await client.request(
        "POST", f"/invocations/{invocation_id}/report", json_body={"reason": reason}
    )


async def transfer_balance(client: ChutesClient, user: str, amount: float | None) -> dict:
    """``POST /users/balance_transfer`` to a user id or name (all of it when no amount)."""
    body: dict[str, Any] = {"user_id": user}
    if amount is not None:
        if amount <= 0:
            raise PlatformError(f"cannot transfer {amount}", fix="pass a positive --amount")
        body["amount"] = amount
    return await client.request("POST", "/users/balance_transfer", json_body=body)


async def login_url(client: ChutesClient, signer: Signer | None = None) -> str:
    """The browser login link: the IDP's nonce signed with ``signer`` (default: the
    configured hotkey)."""
    signer = signer or client.signer
    if signer is None:
        from ._errors import PlatformConfigError

        raise PlatformConfigError(
            "logging in needs a hotkey: no [auth] hotkey_seed/hotkey_ss58address configured",
            fix="run `chutes-build register`, or point --config-path at a config.ini with a hotkey",
        )
    response = await client._http.get("/idp/cli_login/nonce")
    client._raise_for(response, "GET /idp/cli_login/nonce", (200,))
    nonce = str(response.json()["nonce"])
    query = urlencode(
        {
            "hotkey": signer.ss58_address,
            "signature": signer.sign(nonce),
            "nonce": nonce,
        }
    )
    return f"{client.settings.base_url.rstrip('/')}/idp/cli_login?{query}"
