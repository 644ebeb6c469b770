"""The stand-in's account routes, checked as chutes-api checks them.

- ``GET /images/`` (purpose ``images``) and ``GET /chutes/`` (purpose ``chutes``, auth
  optional: anonymous callers see public chutes) paginate ``{total, page, limit, items}``
  with an ``ilike`` name filter; chutes carry ``cord_ref_id`` and a ``cord_refs`` map.
- ``/secrets/``: GET list / GET one / DELETE one sign the ``secrets`` purpose; POST is signed
  over the body; ``purpose`` names a chute of the caller (name ``ilike`` or id, else 404); the
  id is ``uuid5(user_id:chute_id:key)`` and a duplicate is 409; the value is never returned.
- ``POST /invocations/{id}/report`` (body): 409 when already reported, 404 unless the
  caller made that invocation.
- ``POST /users/balance_transfer`` (body) ``{"user_id": id or name, "amount"?}``: 404 unknown
  user, 400 to yourself or a non-positive amount, 402 more than the balance.
- ``GET /idp/cli_login/nonce`` (no auth) and ``GET /idp/cli_login?hotkey&signature&nonce``:
  the signature over the nonce must verify and the nonce is single-use.
- ``GET /encrypted_logs/{chute_id}/sessions[/{instance_id}/chunks]`` (purpose ``chutes``):
  exact chute id, owner only; chunks are encrypted to the owner's hotkey (ECIES on
  Ristretto255, HKDF-SHA256, AES-256-GCM).
- ``GET /instances/{id}/logs`` (purpose ``logs``): SSE; 403 for a public chute or one that is
  neither yours nor shared with you.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ._auth import current_user, json_body, verify_signature
from ._state import StandInState

HKDF_INFO = b"chutes-encrypted-logs-v1"


def _page(request: Request) -> tuple[int, int]:
    try:
        return int(request.query_params.get("page", 0)), int(request.query_params.get("limit", 25))
    except ValueError:
        raise HTTPException(422, "page and limit must be integers") from None


def _paginate(items: list, page: int, limit: int) -> dict:
    return {
        "total": len(items),
        "page": page,
        "limit": limit,
        "items": items[page * limit : (page + 1) * limit],
    }


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("true", "1")


async def _optional_user(request: Request, s: StandInState, purpose: str):
    try:
        return await current_user(request, s, purpose)
    except HTTPException as exc:
        if "no signature or API key" in str(exc.detail):
            return None
        raise


class AccountRoutes:
    def __init__(self, state: StandInState) -> None:
        self.s = state

    async def list_images(self, request: Request) -> Response:
        user = await current_user(request, self.s, "images")
        page, limit = _page(request)
        name = request.query_params.get("name", "").lower()
        rows = [
            r
            for r in self.s.images.values()
            if (r.user_id == user.user_id or (_flag(request, "include_public") and r.public))
            and name in r.name.lower()
        ]
        rows.sort(key=lambda r: r.created_at, reverse=True)
        return JSONResponse(_paginate([r.response() for r in rows], page, limit))

    async def list_chutes(self, request: Request) -> Response:
        user = await _optional_user(request, self.s, "chutes")
        page, limit = _page(request)
        name = request.query_params.get("name", "").lower()
        mine = (lambda c: c["user_id"] == user.user_id) if user else (lambda c: False)
        public = user is None or _flag(request, "include_public")
        rows = [
            c
            for c in self.s.chutes.values()
            if (mine(c) or (public and c.get("public"))) and name in c["name"].lower()
        ]
        items, refs = [], {}
        for chute in rows:
            cords = chute.get("cords") or []
            ref = str(uuid.uuid5(uuid.NAMESPACE_OID, json.dumps(cords, sort_keys=True)))
            refs[ref] = [{k: v for k, v in c.items() if not k.endswith("schema")} for c in cords]
            items.append(
                {
                    **{k: v for k, v in chute.items() if k != "cords"},
                    "cords": None,
                    "cord_ref_id": ref,
                }
            )
        return JSONResponse({**_paginate(items, page, limit), "cord_refs": refs})

    # -- secrets ---------------------------------------------------------------------------

    async def secrets_root(self, request: Request) -> Response:
        if request.method == "GET":
            user = await current_user(request, self.s, "secrets")
            page, limit = _page(request)
            rows = [self._view(v) for v in self.s.secrets.values() if v["user_id"] == user.user_id]
            return JSONResponse(_paginate(rows, page, limit))
        user = await current_user(request, self.s, None)
        body = await json_body(request)
        missing = [f for f in ("purpose", "key", "value") if not isinstance(body.get(f), str)]
        if missing:
            raise HTTPException(
                422,
                [{"loc": ["body", f], "msg": "Field required", "type": "missing"} for f in missing],
            )
        chute = next(
            (
                c
                for c in self.s.chutes.values()
                if c["user_id"] == user.user_id and body["purpose"] in (c["chute_id"], c["name"])
            ),
            None,
        )
        if chute is None:
            raise HTTPException(
                404, f"Did not find target chute {body['purpose']}, or it does not belong to you"
            )
        secret_id = str(
            uuid.uuid5(uuid.NAMESPACE_OID, f"{user.user_id}:{chute['chute_id']}:{body['key']}")
        )
        if secret_id in self.s.secrets:
            raise HTTPException(409, "A secret already exists for this purpose with this key.")
        record = {
            "secret_id": secret_id,
            "purpose": chute["chute_id"],
            "key": body["key"],
            "user_id": user.user_id,
            "created_at": "2026-01-01T00:00:00Z",
            "_value": body["value"],
        }
        self.s.secrets[secret_id] = record
        return JSONResponse(self._view(record))

    @staticmethod
    def _view(record: dict) -> dict:
        return {k: v for k, v in record.items() if not k.startswith("_") and k != "user_id"}

    async def secret_one(self, request: Request) -> Response:
        user = await current_user(request, self.s, "secrets")
        record = self.s.secrets.get(request.path_params["secret_id"])
        if record is None or record["user_id"] != user.user_id:
            raise HTTPException(404, "Secret not found, or does not belong to you")
        if request.method == "DELETE":
            del self.s.secrets[record["secret_id"]]
            sid = record["secret_id"]
            return JSONResponse({"status": f"Successfully deleted secret {sid}", "secret_id": sid})
        return JSONResponse(self._view(record))

    # -- reports, balance, login -----------------------------------------------------------

    async def report(self, request: Request) -> Response:
        user = await current_user(request, self.s, None)
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("reason"), str):
            raise HTTPException(
                422, [{"loc": ["body", "reason"], "msg": "Field required", "type": "missing"}]
            )
        invocation_id = request.path_params["invocation_id"]
        if invocation_id in self.s.reports:
            raise HTTPException(409, "A report has already been filed for this invocation")
        if self.s.invocations.get(invocation_id) != user.user_id:
            raise HTTPException(404, "Invocation not found, or does not belong to you")
        self.s.reports[invocation_id] = body["reason"]
        return JSONResponse({"status": f"report received for {invocation_id=}"})

    async def balance_transfer(self, request: Request) -> Response:
        user = await current_user(request, self.s, None)
        body = await json_body(request)
        other = self.s.user_by_id_or_name(str(body.get("user_id")))
        if other is None:
            raise HTTPException(404, "Target user not found")
        if other.user_id == user.user_id:
            raise HTTPException(400, "Cannot transfer balance to yourself")
        amount = body.get("amount", user.balance)
        if not isinstance(amount, int | float) or amount <= 0:
            raise HTTPException(400, "Amount must be positive")
        if amount > user.balance:
            raise HTTPException(402, f"Insufficient balance: {user.balance}")
        with self.s.lock:
            user.balance -= amount
            other.balance += amount
        return JSONResponse(
            {"transferred": amount, "from_balance": user.balance, "to_balance": other.balance}
        )

    async def login_nonce(self, request: Request) -> Response:
        nonce = secrets.token_hex(16)
        self.s.login_nonces[nonce] = False
        return JSONResponse({"nonce": nonce})

    async def cli_login(self, request: Request) -> Response:
        q = request.query_params
        hotkey, signature, nonce = q.get("hotkey", ""), q.get("signature", ""), q.get("nonce", "")
        if self.s.login_nonces.get(nonce) is not False:
            raise HTTPException(401, "Invalid or expired nonce")
        if not verify_signature(hotkey, nonce, signature):
            raise HTTPException(401, "Invalid signature")
        user = self.s.user_by_hotkey(hotkey)
        if user is None:
            raise HTTPException(404, "No user with this hotkey")
        self.s.login_nonces[nonce] = True
        return JSONResponse({"logged_in": user.username})

    # -- logs ----------------------------------------------------------------------------

    def _owned_chute(self, user, chute_id: str) -> dict:
        chute = self.s.chutes.get(chute_id)
        if chute is None or chute["user_id"] != user.user_id:
            raise HTTPException(404, "Chute not found, or does not belong to you")
        return chute

    async def log_sessions(self, request: Request) -> Response:
        user = await current_user(request, self.s, "chutes")
        chute = self._owned_chute(user, request.path_params["chute_id"])
        sessions = self.s.startup_logs.get(chute["chute_id"], [])
        return JSONResponse([{k: v for k, v in s.items() if k != "_chunks"} for s in sessions])

    async def log_chunks(self, request: Request) -> Response:
        user = await current_user(request, self.s, "chutes")
        chute = self._owned_chute(user, request.path_params["chute_id"])
        instance_id = request.path_params["instance_id"]
        session = next(
            (
                s
                for s in self.s.startup_logs.get(chute["chute_id"], [])
                if s["instance_id"] == instance_id
            ),
            None,
        )
        if session is None:
            raise HTTPException(404, "No encrypted logs found for this instance")
        return JSONResponse(
            {
                "instance_id": instance_id,
                "chute_id": chute["chute_id"],
                "chunks": session["_chunks"],
            }
        )

    async def instance_logs(self, request: Request) -> Response:
        user = await current_user(request, self.s, "logs")
        instance_id = request.path_params["instance_id"]
        chute = next(
            (
                c
                for c in self.s.chutes.values()
                if any(i["instance_id"] == instance_id for i in c.get("instances", []))
            ),
            None,
        )
        if chute is None or instance_id not in self.s.instance_logs:
            raise HTTPException(404, "Instance not found")
        shared = (chute["chute_id"], user.user_id) in self.s.shares
        if chute.get("public") or not (chute["user_id"] == user.user_id or shared):
            raise HTTPException(403, "You may only view logs of your own private chutes")
        lines = self.s.instance_logs[instance_id]

        async def frames():
            yield 'data: {"event": "connected"}\n\n'
            for line in lines:
                yield "data: " + json.dumps({"log": line}) + "\n\n"

        return StreamingResponse(frames(), media_type="text/event-stream")


async def all_warming(state: StandInState) -> bool:
    """With ``warmup_barrier = N``, no warmup turns hot before N have started (a client that
    warms one chute after another never gets there: its first stream ends cold)."""
    for _ in range(int(10 / state.keepalive)):
        if state.warmups_started >= state.warmup_barrier:
            return True
        await asyncio.sleep(state.keepalive)
    return False


def add_startup_log(state: StandInState, chute_id: str, instance_id: str, lines: list[str]) -> None:
    """Record an instance's startup log encrypted to the chute owner's hotkey, as the
    platform's capture does."""
    import rbcl
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from substrateinterface.utils.ss58 import ss58_decode

    owner = state.users[state.chutes[chute_id]["user_id"]]
    public = bytes.fromhex(ss58_decode(owner.hotkey))
    scalar = rbcl.crypto_core_ristretto255_scalar_random()
    ephemeral = rbcl.crypto_scalarmult_ristretto255_base(scalar)
    shared = rbcl.crypto_scalarmult_ristretto255(scalar, public)
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + public, info=HKDF_INFO
    ).derive(shared)
    chunks = []
    for line in lines:
        nonce = os.urandom(12)
        chunks.append(base64.b64encode(nonce + AESGCM(key).encrypt(nonce, line.encode(), None)))
    state.startup_logs.setdefault(chute_id, []).append(
        {
            "instance_id": instance_id,
            "config_id": str(uuid.uuid4()),
            "started_at": time.time(),
            "chunk_count": len(chunks),
            "ephemeral_pubkey": base64.b64encode(ephemeral).decode(),
            "_chunks": [c.decode() for c in chunks],
        }
    )


def account_routes(state: StandInState) -> list[Route]:
    a = AccountRoutes(state)
    return [
        Route("/images/", a.list_images, methods=["GET"]),
        Route("/chutes/", a.list_chutes, methods=["GET"]),
        Route("/secrets/", a.secrets_root, methods=["GET", "POST"]),
        Route("/secrets/{secret_id}", a.secret_one, methods=["GET", "DELETE"]),
        Route("/invocations/{invocation_id}/report", a.report, methods=["POST"]),
        Route("/users/balance_transfer", a.balance_transfer, methods=["POST"]),
        Route("/idp/cli_login/nonce", a.login_nonce, methods=["GET"]),
        Route("/idp/cli_login", a.cli_login, methods=["GET"]),
        Route("/encrypted_logs/{chute_id}/sessions", a.log_sessions, methods=["GET"]),
        Route(
            "/encrypted_logs/{chute_id}/sessions/{instance_id}/chunks",
            a.log_chunks,
            methods=["GET"],
        ),
        Route("/instances/{instance_id}/logs", a.instance_logs, methods=["GET"]),
    ]
