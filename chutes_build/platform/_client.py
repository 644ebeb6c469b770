"""Async client of the chutes.ai API (httpx; runs under trio).

Every request is signed as the platform expects (see :mod:`._signing`); bodies
are rendered to bytes once, hashed and sent as they are. Connection errors,
429 and 5xx are retried with exponential backoff (re-signed with a fresh
nonce); 4xx answers are never retried. The transport, the clock and the sleep
function are parameters so tests use ``httpx.MockTransport`` and never sleep.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import trio

from ._config import PlatformSettings
from ._errors import (
    PaymentRequired,
    PlatformAuthError,
    PlatformConflict,
    PlatformError,
    PlatformNotFound,
    PlatformUnavailable,
)
from ._payloads import encode_json, encode_multipart
from ._signing import Signer, auth_headers
from ._sse import LogLine, parse_image_log_lines, parse_warmup_lines

__all__ = ["ChutesClient"]

PUBLIC_API = "https://api.chutes.ai"
PUBLIC_REGISTRATION_URL = "https://rtok.chutes.ai/users/register"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:2000] or response.reason_phrase
    detail = data.get("detail", data) if isinstance(data, dict) else data
    return detail if isinstance(detail, str) else json.dumps(detail)[:2000]


class ChutesClient:
    """One user's session with the platform. Use ``async with ChutesClient(...)``."""

    def __init__(
        self,
        settings: PlatformSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = trio.sleep,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 60.0,
    ) -> None:
        self.settings = settings
        self.signer = (
            Signer(settings.hotkey_seed, settings.hotkey_ss58address) if settings.can_sign else None
        )
        self._clock, self.sleep = clock, sleep
        self._retries, self._backoff = retries, backoff
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, read=None),
        )

    def __repr__(self) -> str:
        return f"ChutesClient({self.settings.base_url}, hotkey={self.settings.hotkey_ss58address})"

    async def __aenter__(self) -> ChutesClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing ----------------------------------------------------------------------

    def _build(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        purpose: str | None = None,
        params: Mapping[str, str] | None = None,
        versioned: bool = False,
        signer: Signer | None = None,
    ) -> httpx.Request:
        headers = auth_headers(
            signer or self.signer,
            nonce=str(int(self._clock())),
            body=body,
            purpose=purpose,
            user_id=self.settings.user_id,
            api_key=None if signer else self.settings.api_key,
            versioned=versioned,
        )
        if content_type:
            headers["Content-Type"] = content_type
        return self._http.build_request(method, path, content=body, headers=headers, params=params)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                return min(float(retry_after), 60.0)
        return min(self._backoff * 2**attempt, 30.0)

    async def _send(
        self, method: str, path: str, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        if kwargs.get("signer") is None and self.signer is None and not self.settings.api_key:
            self.settings.require_credentials()
        what = f"{method} {path}"
        problem = ""
        for attempt in range(self._retries + 1):
            request = self._build(method, path, **kwargs)
            response = None
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                if stream:
                    await response.aread()
                problem = f"HTTP {response.status_code}: {_detail(response)}"
                await response.aclose()
            if attempt < self._retries:
                await self.sleep(self._delay(attempt, response))
        raise PlatformUnavailable(
            f"{what} failed after {self._retries + 1} attempts: {problem}",
            fix=f"check that {self.settings.base_url} is reachable and retry later",
        )

    def _raise_for(self, response: httpx.Response, what: str, ok: tuple[int, ...]) -> None:
        status = response.status_code
        if status in ok:
            return
        detail = _detail(response)
        if status == 401:
            raise PlatformAuthError(
                f"{what}: the platform rejected the credentials: {detail}",
                status=401,
                fix="check [auth] in your config.ini (or CHUTES_API_KEY); "
                "'Invalid nonce' means this machine's clock is off",
            )
        if status == 402:
            raise PaymentRequired(
                detail,
                status=402,
                fix="read the notice above; pass --accept-fee to accept the fee, or add balance",
            )
        if status == 404:
            raise PlatformNotFound(
                f"{what}: {detail}",
                status=404,
                fix="check the name or id (it must be yours or shared with you)",
            )
        if status == 409:
            raise PlatformConflict(
                f"{what}: {detail}",
                status=409,
                fix="use a new name/tag, or delete the existing object first",
            )
        raise PlatformError(
            f"{what} failed: HTTP {status}: {detail}",
            status=status,
            fix="fix the request as the platform's message says",
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        purpose: str | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        versioned: bool = False,
        ok: tuple[int, ...] = (200,),
        signer: Signer | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """Send one signed request and return its decoded JSON (None for a 404 when missing_ok)."""
        body = None if json_body is None else encode_json(json_body)
        response = await self._send(
            method,
            path,
            body=body,
            content_type="application/json" if body else None,
            purpose=purpose,
            params=params,
            versioned=versioned,
            signer=signer,
        )
        if missing_ok and response.status_code == 404:
            return None
        self._raise_for(response, f"{method} {path}", ok)
        return response.json() if response.content else None

    async def _post_multipart(
        self, path: str, fields: list[tuple[str, Any]], *, versioned: bool, ok: tuple[int, ...]
    ) -> dict:
        """POST a multipart/form-data body of ``fields`` and return the decoded JSON answer."""
        body, content_type = encode_multipart(fields)
        response = await self._send(
            "POST", path, body=body, content_type=content_type, versioned=versioned
        )
        self._raise_for(response, f"POST {path}", ok)
        return response.json()

    async def _open_stream(
        self, path: str, *, purpose: str, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """GET ``path`` as a stream (the caller closes it); a non-200 answer is raised."""
        response = await self._send("GET", path, stream=True, purpose=purpose, params=params)
        if response.status_code != 200:
            try:
                await response.aread()
                self._raise_for(response, f"GET {path}", (200,))
            finally:
                await response.aclose()
        return response

    # -- images ------------------------------------------------------------------------

    async def get_image(self, id_or_name: str, *, missing_ok: bool = False) -> dict | None:
        """GET /images/{id_or_name}: the image row, or None when missing and ``missing_ok``."""
        return await self.request(
            "GET", f"/images/{id_or_name}", purpose="images", missing_ok=missing_ok
        )

    async def delete_image(self, id_or_name: str) -> dict:
        """DELETE /images/{id_or_name}; 409 while a chute uses it."""
        return await self.request("DELETE", f"/images/{id_or_name}", purpose="images")

    async def create_image(self, fields: list[tuple[str, Any]]) -> dict:
        """POST /images/ with the multipart ``fields`` (see ``image_fields``); 202 -> the row."""
        return await self._post_multipart("/images/", fields, versioned=True, ok=(202,))

    async def upload_logo(self, filename: str, data: bytes, content_type: str) -> dict:
        """POST /logos/ with the multipart field ``logo``; -> ``{"logo_id", "path"}``."""
        fields = [("logo", (filename, data, content_type))]
        return await self._post_multipart("/logos/", fields, versioned=False, ok=(200,))

    async def stream_image_logs(self, image_id: str) -> AsyncIterator[LogLine]:
        """Yield the build log of ``image_id`` until the build ends (§3.5)."""
        offset: str | None = None
        seen = False
        for attempt in range(self._retries + 1):
            params = {"offset": offset} if offset else None
            response = await self._open_stream(
                f"/images/{image_id}/logs", purpose="images", params=params
            )
            try:
                if "text/plain" in response.headers.get("content-type", ""):
                    text = (await response.aread()).decode(errors="replace")
                    if not seen:
                        for line in text.splitlines():
                            yield LogLine("stdout", line)
                    return
                try:
                    async for item in parse_image_log_lines(response.aiter_lines()):
                        if isinstance(item, str):
                            offset = item
                            continue
                        seen = True
                        yield item
                    return
                except httpx.TransportError:
                    pass
            finally:
                await response.aclose()
            if attempt < self._retries:
                await self.sleep(self._delay(attempt, None))
        raise PlatformUnavailable(
            f"the build log of {image_id} kept disconnecting",
            fix="check the build later with GET /images/{id}",
        )

    # -- chutes ------------------------------------------------------------------------

    async def deploy_chute(self, body: dict, *, accept_fee: bool = False) -> dict:
        """POST /chutes/?accept_fee=… with the deploy body; 402 carries the fee notice."""
        params = {"accept_fee": "true" if accept_fee else "false"}
        return await self.request("POST", "/chutes/", json_body=body, params=params, versioned=True)

    async def get_chute(self, id_or_name: str, *, missing_ok: bool = False) -> dict | None:
        return await self.request(
            "GET", f"/chutes/{id_or_name}", purpose="chutes", missing_ok=missing_ok
        )

    async def delete_chute(self, chute_id: str) -> dict:
        """DELETE /chutes/{chute_id} (the platform takes a UUID only)."""
        return await self.request("DELETE", f"/chutes/{chute_id}", purpose="chutes")

    async def share_chute(self, chute: str, user: str, *, remove: bool = False) -> dict:
        body = {"chute_id_or_name": chute, "user_id_or_name": user}
        return await self.request(
            "POST", f"/chutes/{'unshare' if remove else 'share'}", json_body=body
        )

    async def warmup(self, chute: str) -> AsyncIterator[dict]:
        """Yield warmup events ``{"status", "log"}`` until the chute is hot (§5)."""
        response = await self._open_stream(f"/chutes/warmup/{chute}", purpose="chutes")
        try:
            async for event in parse_warmup_lines(response.aiter_lines()):
                yield event
        finally:
            await response.aclose()

    # -- users and keys ----------------------------------------------------------------

    async def get_me(self) -> dict:
        return await self.request("GET", "/users/me", purpose="me")

    async def register(
        self, *, username: str, coldkey: str, signer: Signer, token: str = "replaceme"
    ) -> dict:
        """POST /users/register?token=… signed by the wallet's hotkey (§8).

        The public platform takes registrations on its token host, not on the API host.
        """
        url = "/users/register"
        if self.settings.base_url.startswith(PUBLIC_API):
            url = PUBLIC_REGISTRATION_URL
        return await self.request(
            "POST",
            url,
            params={"token": token},
            json_body={"username": username, "coldkey": coldkey},
            signer=signer,
        )

    async def create_api_key(
        self, name: str, *, admin: bool = False, scopes: list[dict] | None = None
    ) -> dict:
        body: dict[str, Any] = {"name": name, "admin": admin}
        if not admin:
            body["scopes"] = scopes or []
        return await self.request("POST", "/api_keys/", json_body=body)

    async def list_api_keys(self) -> dict:
        return await self.request("GET", "/api_keys/", purpose="api_keys")

    async def delete_api_key(self, api_key_id: str) -> dict:
        return await self.request("DELETE", f"/api_keys/{api_key_id}", purpose="api_keys")
