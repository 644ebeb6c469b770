"""The stand-in platform's routes (starlette). Never unpickles anything."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from . import _deploy as d
from ._account import account_routes, all_warming
from ._auth import check_hotkey, current_user, json_body
from ._keys import KeyRoutes
from ._multipart import parse_multipart
from ._state import (
    ImageRow,
    LogoRow,
    Recorded,
    StandInState,
    User,
    chute_id_for,
    image_id_for,
    version_for,
)

IMAGE_FIELDS = (
    "username",
    "name",
    "tag",
    "readme",
    "dockerfile",
    "public",
    "logo_id",
    "wait",
    "image",
    "build_context",
)
IMAGE_NAME_RE = re.compile(r"^[a-z0-9_./-]{3,65}$", re.I)
IMAGE_TAG_RE = re.compile(r"^[a-z0-9_./-]{2,33}$", re.I)
MIN_VERSION = (0, 3, 61)


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(".")[:3])
    except ValueError:
        return (0,)


class Routes:
    def __init__(self, state: StandInState) -> None:
        self.s = state

    async def ping(self, request: Request) -> Response:
        return JSONResponse({"message": "pong"})

    # -- users -------------------------------------------------------------------------

    async def register(self, request: Request) -> Response:
        if request.query_params.get("token") != self.s.registration_token:
            raise HTTPException(401, "Invalid registration token")
        hotkey = await check_hotkey(request, self.s, None)
        if hotkey is None:
            raise HTTPException(401, "Missing hotkey signature headers")
        body = await json_body(request)
        username, coldkey = body.get("username"), body.get("coldkey")
        if not isinstance(username, str) or not re.match(r"^[a-zA-Z0-9_-]{3,15}$", username):
            raise HTTPException(400, "Invalid username")
        if self.s.user_by_hotkey(hotkey) or self.s.user_by_id_or_name(username):
            raise HTTPException(409, "Username or hotkey already registered")
        user = self.s.add_user(username, hotkey, coldkey=coldkey or "")
        return JSONResponse({**user.public(), "fingerprint": secrets.token_hex(16)})

    async def me(self, request: Request) -> Response:
        if request.path_params["user_id"] != "me":
            raise HTTPException(404, "User not found")
        user = await current_user(request, self.s, "me")
        return JSONResponse(user.public())

    # -- images ------------------------------------------------------------------------

    async def create_image(self, request: Request) -> Response:
        user = await current_user(request, self.s, None, allow_api_key=False)
        form = parse_multipart(await request.body(), request.headers.get("content-type", ""))
        missing = [f for f in IMAGE_FIELDS if f not in form]
        if missing:
            raise HTTPException(
                422,
                [{"loc": ["body", f], "msg": "Field required", "type": "missing"} for f in missing],
            )
        if form["username"] != user.username:
            raise HTTPException(401, "Username mismatch, you can only create images for yourself")
        if _version_tuple(request.headers.get("X-Chutes-Version", "0")) < MIN_VERSION:
            raise HTTPException(400, "Please upgrade your chutes library to >= 0.3.61")
        if user.balance < 50 and not user.unlimited_dev:
            raise HTTPException(402, "You must have a balance of >= $50 to create images.")
        name, tag = str(form["name"]), str(form["tag"])
        if not IMAGE_NAME_RE.match(name) or not IMAGE_TAG_RE.match(tag):
            raise HTTPException(400, "Invalid image name or tag")
        context = form["build_context"]
        description = str(form["image"])
        if not isinstance(context, tuple) or not isinstance(form["dockerfile"], str):
            raise HTTPException(422, "build_context must be a file upload")
        base64.b64decode(description, validate=True)  # stored opaque, never unpickled
        image_id = image_id_for(user.username, name, tag)
        with self.s.lock:
            if image_id in self.s.images:
                raise HTTPException(409, f"Image with name={name} and tag={tag} aready exists")
            row = ImageRow(
                image_id,
                user.user_id,
                user.username,
                name,
                tag,
                str(form["readme"]),
                form["public"] == "True",
                None if form["logo_id"] == "__none__" else str(form["logo_id"]),
                str(form["dockerfile"]),
                context[2],
                description,
            )
            self.s.images[image_id] = row
        self.s.start_build(row)
        return JSONResponse(row.response(), status_code=202)

    async def get_image(self, request: Request) -> Response:
        user = await current_user(request, self.s, "images")
        row = self.s.find_image(user, request.path_params["ref"])
        if row is None:
            raise HTTPException(404, "Image not found, or does not belong to you")
        return JSONResponse(row.response())

    async def image_logs(self, request: Request) -> Response:
        user = await current_user(request, self.s, "images")
        row = self.s.find_image(user, request.path_params["image_id"])
        if row is None:
            raise HTTPException(404, "Image not found, or does not belong to you")
        if row.finished:
            text = "\n".join(row.log_text) if row.log_text else row.status
            return PlainTextResponse(
                text, headers={"Content-Disposition": f'inline; filename="{row.image_id}.log"'}
            )
        offset = request.query_params.get("offset")
        start = tuple(int(p) for p in offset.split("-")) if offset else (0, 0)
        return StreamingResponse(
            self._log_stream(row, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _log_stream(self, row: ImageRow, start: tuple[int, ...]):
        sent = 0
        while True:
            with self.s.lock:
                events = [e for e in row.events if (e[0], e[1]) >= start][sent:]
                done = row.finished
            for ms, seq, log_type, line in events:
                frame = {"log": {"log_type": log_type, "log": line}, "offset": f"{ms}-{seq + 1}"}
                yield "data: " + json.dumps(frame) + "\n"
            sent += len(events)
            if done and not events:
                yield "DONE\n"
                return
            if not events:
                yield ".\n"
                await asyncio.sleep(self.s.keepalive)

    # -- logos -------------------------------------------------------------------------

    async def upload_logo(self, request: Request) -> Response:
        """POST /logos/: a multipart ``logo`` file of an ``image/*`` type (else 400)."""
        await current_user(request, self.s, None, allow_api_key=False)
        form = parse_multipart(await request.body(), request.headers.get("content-type", ""))
        logo = form.get("logo")
        if not isinstance(logo, tuple):
            raise HTTPException(
                422, [{"loc": ["body", "logo"], "msg": "Field required", "type": "missing"}]
            )
        filename, content_type, data = logo
        if not content_type.lower().startswith("image/"):
            raise HTTPException(400, "Invalid image type, must be an image/* upload")
        logo_id = str(uuid.uuid4())
        with self.s.lock:
            self.s.logos[logo_id] = LogoRow(logo_id, filename, content_type, data)
        return JSONResponse({"logo_id": logo_id, "path": f"/logos/{logo_id}.webp"})

    # -- chutes ------------------------------------------------------------------------

    async def create_chute(self, request: Request) -> Response:
        user = await current_user(request, self.s, None)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise HTTPException(422, "Body must be a JSON object")
        scalars = d.check_scalars(body)
        d.check_cords_jobs(body)
        gpus, gpu_count = d.supported_gpus(
            body.get("node_selector"), normal_user=not user.unlimited_dev
        )
        return JSONResponse(
            self._store_chute(
                user,
                body,
                scalars,
                gpus,
                gpu_count,
                request.query_params.get("accept_fee") == "true",
            )
        )

    def _store_chute(
        self,
        user: User,
        body: dict,
        scalars: dict,
        gpus: list[str],
        gpu_count: int,
        accept_fee: bool,
    ) -> dict:
        if body["public"] and not user.public_deploy:
            raise HTTPException(400, "You do not have permission to create public chutes")
        if scalars["tee"] and not user.unlimited_dev:
            raise HTTPException(400, "TEE chutes are not available to your account")
        if body.get("standard_template") == "vllm" and not re.match(
            r"^[0-9a-f]{40}$", str(body.get("revision") or "")
        ):
            raise HTTPException(400, "vllm chutes require a 40-character hex revision")
        image = self.s.find_image(user, body["image"])
        if image is None:
            raise HTTPException(400, f"Chute image not found: {body['image']}")
        if image.status != "built and pushed":
            raise HTTPException(400, f"Chute image is not available: status={image.status}")
        chute_id = chute_id_for(user.username, body["name"])
        version = version_for(image.image_id, image.patch_version, body["code"])
        with self.s.lock:
            old = self.s.chutes.get(chute_id)
            if old and (old["version"], old["public"]) == (version, body["public"]):
                raise HTTPException(
                    409,
                    f"Chute with name={body['name']}, version={version} "
                    f"and public={body['public']} already exists",
                )
            if old is None and not user.free_account:
                fee = d.deployment_fee(gpu_count, gpus)
                if fee > 0 and not accept_fee:
                    raise HTTPException(402, d.fee_notice(fee))
                if user.balance <= fee:
                    raise HTTPException(
                        402,
                        f"The deployment fee, based on your node selector, "
                        f"is ${fee}, but you have a balance of {user.balance}",
                    )
                user.balance -= fee
            chute = {
                **{k: v for k, v in body.items() if k != "code"},
                **scalars,
                "chute_id": chute_id,
                "version": version,
                "user_id": user.user_id,
                "image": image.response(),
                "supported_gpus": gpus,
                "code_sha256": hashlib.sha256(body["code"].encode()).hexdigest(),
                "slug": re.sub(r"[^a-z0-9-]+", "-", f"{user.username}-{body['name']}".lower())[:58],
                "instances": old["instances"] if old else [],
                "hot": False,
                "updated": bool(old),
            }
            self.s.chutes[chute_id] = chute
        return chute

    async def get_chute(self, request: Request) -> Response:
        user = await current_user(request, self.s, "chutes")
        chute = self.s.find_chute(user, request.path_params["ref"])
        if chute is None:
            raise HTTPException(404, "Chute not found, or does not belong to you")
        return JSONResponse(chute)

    async def share(self, request: Request) -> Response:
        user = await current_user(request, self.s, None)
        body = await json_body(request)
        chute = self.s.find_chute(user, str(body.get("chute_id_or_name")), owned=True)
        if chute is None:
            raise HTTPException(404, "Chute not found, or does not belong to you")
        other = self.s.user_by_id_or_name(str(body.get("user_id_or_name")))
        if other is None:
            raise HTTPException(404, "User not found")
        if chute["public"]:
            raise HTTPException(400, "Chute is public, no need to share")
        if other.user_id == user.user_id:
            raise HTTPException(400, "You cannot share a chute with yourself")
        pair = (chute["chute_id"], other.user_id)
        unshare = request.url.path.endswith("/unshare")
        with self.s.lock:
            (self.s.shares.discard if unshare else self.s.shares.add)(pair)
        verb = "unshared" if unshare else "shared"
        return JSONResponse(
            {"status": f"Successfully {verb} chute={chute['chute_id']} with user={other.user_id}"}
        )

    async def warmup(self, request: Request) -> Response:
        user = await current_user(request, self.s, "chutes")
        chute = self.s.find_chute(user, request.path_params["ref"])
        if chute is None:
            raise HTTPException(404, "Chute not found, or does not belong to you")
        if user.balance <= 0:
            raise HTTPException(402, "Account balance must be > 0 to warm up chutes")

        async def events():
            self.s.warmups_started += 1
            if not await all_warming(self.s):
                yield "data: " + json.dumps({"status": "cold", "log": "gave up"}) + "\n\n"
                return
            for index in range(self.s.warmup_cold_events):
                log = f"waiting for instance ({index + 1})"
                yield "data: " + json.dumps({"status": "cold", "log": log}) + "\n\n"
                await asyncio.sleep(self.s.keepalive)
            chute["hot"] = True
            yield "data: " + json.dumps({"status": "hot", "log": "chute is hot"}) + "\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def image_or_delete(self, request: Request) -> Response:
        if request.method == "GET":
            return await self.get_image(request)
        user = await current_user(request, self.s, "images")
        row = self.s.find_image(user, request.path_params["ref"])
        if row is None or row.user_id != user.user_id:
            raise HTTPException(404, "Image not found, or does not belong to you")
        with self.s.lock:
            if any(
                c["image"]["image_id"] == row.image_id
                for c in self.s.chutes.values()
                if isinstance(c.get("image"), dict)
            ):
                raise HTTPException(409, "Image is in use by one or more chutes")
            del self.s.images[row.image_id]
        return JSONResponse({"image_id": row.image_id, "deleted": True})

    async def chute_or_delete(self, request: Request) -> Response:
        if request.method == "GET":
            return await self.get_chute(request)
        user = await current_user(request, self.s, "chutes")
        ref = request.path_params["ref"]
        try:
            uuid.UUID(ref)
        except ValueError:
            raise HTTPException(400, "Chute ID must be a UUID") from None
        chute = self.s.find_chute(user, ref, owned=True)
        if chute is None:
            raise HTTPException(404, "Chute not found, or does not belong to you")
        with self.s.lock:
            del self.s.chutes[chute["chute_id"]]
        return JSONResponse({"chute_id": chute["chute_id"], "deleted": True})


def _routes(r: Routes) -> list[Route]:
    k = KeyRoutes(r.s)
    return [
        *account_routes(r.s),  # before the {ref:path} routes, which match "/chutes/" too
        Route("/ping", r.ping),
        Route("/users/register", r.register, methods=["POST"]),
        Route("/users/{user_id}", r.me),
        Route("/images/", r.create_image, methods=["POST"]),
        Route("/images/{image_id}/logs", r.image_logs),
        Route("/images/{ref:path}", r.image_or_delete, methods=["GET", "DELETE"]),
        Route("/logos/", r.upload_logo, methods=["POST"]),
        Route("/chutes/", r.create_chute, methods=["POST"]),
        Route("/chutes/share", r.share, methods=["POST"]),
        Route("/chutes/unshare", r.share, methods=["POST"]),
        Route("/chutes/warmup/{ref:path}", r.warmup),
        Route("/chutes/{ref:path}", r.chute_or_delete, methods=["GET", "DELETE"]),
        Route("/api_keys/", k.create_key, methods=["POST"]),
        Route("/api_keys/", k.list_keys, methods=["GET"]),
        Route("/api_keys/{key_id}", k.one_key, methods=["GET", "DELETE"]),
    ]


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


def create_app(state: StandInState) -> Any:
    """The stand-in as an ASGI app that records every request it receives."""
    app = Starlette(routes=_routes(Routes(state)), exception_handlers={HTTPException: _http_error})

    async def recording(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        record = Recorded(
            scope["method"],
            scope["path"],
            scope["query_string"].decode(),
            {k.decode(): v.decode() for k, v in scope["headers"]},
            body,
        )
        state.requests.append(record)

        delivered = False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def sending(message):
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await app(scope, replay, sending)

    return recording
