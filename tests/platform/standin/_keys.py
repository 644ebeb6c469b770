"""The stand-in's API key routes (``/api_keys/``)."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._auth import current_user, json_body
from ._state import StandInState


class KeyRoutes:
    def __init__(self, state: StandInState) -> None:
        self.s = state

    # -- api keys -----------------------------------------------------------------------

    async def create_key(self, request: Request) -> Response:
        user = await current_user(request, self.s, None)
        body = await json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not re.match(r"^[a-zA-Z0-9 _.-]{1,128}$", name):
            raise HTTPException(400, "Invalid API key name")
        if any(
            k["name"] == name and k["user_id"] == user.user_id for k in self.s.api_keys.values()
        ):
            raise HTTPException(409, f"API key with name={name} already exists")
        scopes = body.get("scopes") or []
        for scope in scopes:
            if scope.get("object_type") not in ("images", "chutes", "invocations"):
                raise HTTPException(400, "Invalid scope object_type")
        key_id = str(uuid.uuid4())
        alnum = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
        secret = f"cpk_{key_id.replace('-', '')}.{user.user_id.replace('-', '')}.{alnum}"
        record = {
            "api_key_id": key_id,
            "user_id": user.user_id,
            "admin": bool(body.get("admin")),
            "name": name,
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": None,
            "scopes": [
                {
                    "scope_id": str(uuid.uuid4()),
                    "object_type": s.get("object_type"),
                    "object_id": s.get("object_id"),
                    "method": s.get("action"),
                }
                for s in scopes
            ],
            "_hash": hashlib.sha256(secret.encode()).hexdigest(),
        }
        self.s.api_keys[key_id] = record
        return JSONResponse({**self._key_view(record), "secret_key": secret})

    @staticmethod
    def _key_view(record: dict) -> dict:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    async def list_keys(self, request: Request) -> Response:
        user = await current_user(request, self.s, "api_keys")
        items = [
            self._key_view(k) for k in self.s.api_keys.values() if k["user_id"] == user.user_id
        ]
        return JSONResponse({"total": len(items), "page": 0, "limit": 100, "items": items})

    async def one_key(self, request: Request) -> Response:
        user = await current_user(request, self.s, "api_keys")
        key = self.s.api_keys.get(request.path_params["key_id"])
        if key is None or key["user_id"] != user.user_id:
            raise HTTPException(404, "API key not found")
        if request.method == "DELETE":
            del self.s.api_keys[key["api_key_id"]]
            return JSONResponse({"api_key_id": key["api_key_id"], "deleted": True})
        return JSONResponse(self._key_view(key))
