"""Client behaviour with ``httpx.MockTransport``: retries, errors, exact bodies. No sleeping."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from substrateinterface import Keypair

from chutes_build.platform import (
    ChutesClient,
    PaymentRequired,
    PlatformAuthError,
    PlatformConfigError,
    PlatformError,
    PlatformNotFound,
    PlatformSettings,
    PlatformUnavailable,
)

from .conftest import ALICE_SEED, Sleeps


def _settings(**kw) -> PlatformSettings:
    from chutes_build.platform import Signer

    return PlatformSettings(
        base_url="http://platform.test",
        user_id="u-1",
        username="alice",
        hotkey_seed=ALICE_SEED,
        hotkey_ss58address=Signer(ALICE_SEED).ss58_address,
        **kw,
    )


def _client(handler, sleeps: Sleeps, clock=None, **settings) -> ChutesClient:
    ticks = iter(range(1_700_000_000, 1_800_000_000))
    return ChutesClient(
        _settings(**settings),
        transport=httpx.MockTransport(handler),
        sleep=sleeps,
        clock=clock or (lambda: next(ticks)),
    )


def _script(*responses):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses[min(len(seen), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


async def test_retries_5xx_and_429_with_backoff_and_fresh_nonces(sleeps):
    handler, seen = _script(
        httpx.Response(503, json={"detail": "busy"}),
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"chute_id": "c"}),
    )
    async with _client(handler, sleeps) as client:
        assert await client.deploy_chute({"name": "x"}, accept_fee=True) == {"chute_id": "c"}
    assert sleeps == [0.5, 7.0]
    nonces = [r.headers["X-Chutes-Nonce"] for r in seen]
    assert len(set(nonces)) == 3
    for request in seen:  # each attempt signs the same exact bytes with its own nonce
        assert request.content == b'{"name":"x"}'
        message = (
            f"{request.headers['X-Chutes-Hotkey']}:{request.headers['X-Chutes-Nonce']}:"
            f"{hashlib.sha256(request.content).hexdigest()}"
        )
        assert Keypair(ss58_address=request.headers["X-Chutes-Hotkey"]).verify(
            message.encode(), bytes.fromhex(request.headers["X-Chutes-Signature"])
        )
        assert request.url.params["accept_fee"] == "true"


async def test_connection_errors_retry_then_give_up(sleeps):
    handler, seen = _script(httpx.ConnectError("refused"))
    async with _client(handler, sleeps) as client:
        with pytest.raises(
            PlatformUnavailable,
            match=r"^GET /users/me failed after 5 attempts: "
            r"ConnectError: refused",
        ):
            await client.get_me()
    assert len(seen) == 5 and sleeps == [0.5, 1.0, 2.0, 4.0]


@pytest.mark.parametrize(("status", "error", "pattern"), [
    (400, PlatformError, r"^GET /users/me failed: HTTP 400: bad thing"),
    (401, PlatformAuthError, r"^GET /users/me: the platform rejected the credentials: bad thing"),
    (404, PlatformNotFound, r"^GET /users/me: bad thing"),
    (402, PaymentRequired, r"^bad thing\n  fix: "),
])  # fmt: skip
async def test_4xx_is_never_retried(sleeps, status, error, pattern):
    handler, seen = _script(httpx.Response(status, json={"detail": "bad thing"}))
    async with _client(handler, sleeps) as client:
        with pytest.raises(error, match=pattern):
            await client.get_me()
    assert len(seen) == 1 and sleeps == []


async def test_fee_notice_is_shown_verbatim(sleeps):
    notice = "DEPLOYMENT FEE NOTICE:\n===\nThere is a deployment fee of (...) is: $5.37"
    handler, _ = _script(httpx.Response(402, json={"detail": notice}))
    async with _client(handler, sleeps) as client:
        with pytest.raises(PaymentRequired) as caught:
            await client.deploy_chute({"name": "x"})
    assert caught.value.message == notice and caught.value.status == 402


async def test_api_key_only_settings_send_authorization(sleeps):
    handler, seen = _script(httpx.Response(200, json={}))
    settings = PlatformSettings(base_url="http://platform.test", api_key="cpk_secret")
    async with ChutesClient(settings, transport=httpx.MockTransport(handler), sleep=sleeps) as c:
        await c.get_me()
    assert seen[0].headers["Authorization"] == "Basic cpk_secret"
    assert "X-Chutes-Signature" not in seen[0].headers


async def test_no_credentials_is_a_clear_error(sleeps):
    handler, seen = _script(httpx.Response(200, json={}))
    settings = PlatformSettings(base_url="http://platform.test", config_path="/x/config.ini")
    async with ChutesClient(settings, transport=httpx.MockTransport(handler), sleep=sleeps) as c:
        with pytest.raises(PlatformConfigError, match=r"^no chutes credentials: /x/config.ini"):
            await c.get_me()
    assert seen == []


async def test_log_stream_parses_frames_keepalives_and_resumes_at_offset(sleeps):
    frames = [
        'data: {"log": {"log_type": "stdout", "log": "one"}, "offset": "5-2"}\n.\n',
        'data: {"log": {"log_type": "stderr", "log": "two\\n"}, "offset": "5-3"}\nDONE\n',
    ]
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:  # first connection drops after one frame
            return httpx.Response(
                200,
                headers={"content-type": "text/event-stream"},
                stream=_Dropping(frames[0].encode()),
            )
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=frames[1].encode()
        )

    async with _client(handler, sleeps) as client:
        lines = [(x.stream, x.text) async for x in client.stream_image_logs("img")]
    assert lines == [("stdout", "one"), ("stderr", "two")]
    assert "offset" not in calls[0].url.params
    assert calls[1].url.params["offset"] == "5-2"
    assert calls[0].headers["X-Chutes-Nonce"] and sleeps == [0.5]


class _Dropping(httpx.AsyncByteStream):
    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self):
        yield self.first
        raise httpx.ReadError("connection reset")


async def test_log_stream_error_frame(sleeps):
    handler, _ = _script(
        httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"data: ERROR: redis down"
        )
    )
    async with _client(handler, sleeps) as client:
        with pytest.raises(PlatformError, match="log stream failed: ERROR: redis down"):
            [x async for x in client.stream_image_logs("img")]


async def test_streams_and_uploads_also_need_credentials(sleeps):
    handler, seen = _script(httpx.Response(200, json={}))
    settings = PlatformSettings(base_url="http://platform.test")
    async with ChutesClient(settings, transport=httpx.MockTransport(handler), sleep=sleeps) as c:
        with pytest.raises(PlatformConfigError, match="^no chutes credentials"):
            await c.create_image([("username", "alice")])
        with pytest.raises(PlatformConfigError, match="^no chutes credentials"):
            [x async for x in c.stream_image_logs("img")]
    assert seen == []


def test_a_bad_seed_is_reported_without_echoing_it():
    from chutes_build.platform import Signer

    seed = "zz" * 32
    with pytest.raises(PlatformConfigError) as caught:
        Signer(seed)
    assert seed not in str(caught.value) and "hotkey_seed" in str(caught.value)


def test_client_repr_has_no_secrets():
    settings = _settings(api_key="cpk_very_secret")
    client = ChutesClient(settings, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    text = repr(client) + repr(client.signer) + repr(client.settings)
    assert ALICE_SEED not in text and "very_secret" not in text


async def test_registration_goes_to_the_token_host_on_the_public_platform(sleeps):
    from chutes_build.platform import Signer

    handler, seen = _script(httpx.Response(200, json={"user_id": "u"}))
    settings = PlatformSettings(base_url="https://api.chutes.ai")
    async with ChutesClient(settings, transport=httpx.MockTransport(handler), sleep=sleeps) as c:
        await c.register(username="carol", coldkey="5Cold", signer=Signer(ALICE_SEED), token="tok")
    assert str(seen[0].url) == "https://rtok.chutes.ai/users/register?token=tok"
    assert seen[0].content == b'{"username":"carol","coldkey":"5Cold"}'
