"""Request authentication exactly as the platform checks it (CHUTES_API.md §1).

A middleware hashes every POST/PUT/PATCH body (empty ones included); the route
supplies a purpose or not, and **the purpose wins when it has one**. The nonce
must be all digits and within ±600 s of server time. If only some hotkey
headers are present they are ignored and API-key auth is tried.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ._state import StandInState, User

NONCE_WINDOW = 600


def verify_signature(hotkey: str, message: str, signature_hex: str) -> bool:
    from substrateinterface import Keypair

    try:
        signature = bytes.fromhex(signature_hex)
        return bool(Keypair(ss58_address=hotkey).verify(message.encode(), signature))
    except Exception:
        return False


async def expected_message(request: Request, hotkey: str, nonce: str, purpose: str | None) -> str:
    body_hash = None
    if request.method in ("POST", "PUT", "PATCH"):
        body_hash = hashlib.sha256(await request.body()).hexdigest()
    third = purpose if purpose else body_hash
    return f"{hotkey}:{nonce}:{third}"


async def check_hotkey(request: Request, state: StandInState, purpose: str | None) -> str | None:
    """Verify the hotkey headers; return the hotkey, or None when they are not all present."""
    hotkey = request.headers.get("X-Chutes-Hotkey")
    nonce = request.headers.get("X-Chutes-Nonce")
    signature = request.headers.get("X-Chutes-Signature")
    if not (hotkey and nonce and signature):
        return None
    if not nonce.isdigit() or abs(int(nonce) - int(state.clock())) >= NONCE_WINDOW:
        raise HTTPException(401, "Invalid nonce!")
    message = await expected_message(request, hotkey, nonce, purpose)
    if not verify_signature(hotkey, message, signature):
        raise HTTPException(401, f"Invalid request signature for hotkey {hotkey}")
    return hotkey


def _api_key_user(request: Request, state: StandInState) -> User | None:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    token = header.split()[-1]
    if not token.startswith("cpk_"):
        raise HTTPException(401, "Invalid token.")
    digest = hashlib.sha256(token.encode()).hexdigest()
    for key in state.api_keys.values():
        if key["_hash"] == digest:
            return state.users.get(key["user_id"])
    raise HTTPException(401, "Invalid API key.")


async def current_user(
    request: Request, state: StandInState, purpose: str | None = None, *, allow_api_key: bool = True
) -> User:
    hotkey = await check_hotkey(request, state, purpose)
    if hotkey is not None:
        user = state.user_by_hotkey(hotkey)
        if user is None:
            raise HTTPException(401, f"Could not find user with hotkey: {hotkey}")
        return user
    user = _api_key_user(request, state) if allow_api_key else None
    if user is None:
        raise HTTPException(401, "Can't authenticate: no signature or API key")
    return user


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise HTTPException(
            422, [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]
        ) from None
