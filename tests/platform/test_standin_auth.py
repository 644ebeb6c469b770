"""The stand-in checks signatures like the platform; the client passes those checks."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest

from chutes_build.platform import ChutesClient, PlatformAuthError, PlatformNotFound, Signer

from .conftest import settings_for


async def test_signed_get_with_purpose(client, standin):
    me = await client.get_me()
    assert me["username"] == "alice"
    record = standin.state.requests[-1]
    assert record.path == "/users/me" and record.status == 200
    assert record.headers["x-chutes-hotkey"] == client.signer.ss58_address
    assert record.headers["x-chutes-nonce"].isdigit()


async def test_signed_post_body_hash_matches_bytes_sent(client, standin):
    with pytest.raises(PlatformNotFound, match="Chute not found"):
        await client.share_chute("nope", "bob")
    record = standin.state.requests[-1]
    assert record.body == b'{"chute_id_or_name":"nope","user_id_or_name":"bob"}'
    assert record.status == 404  # authenticated (not 401), then: no such chute


def _raw_headers(signer: Signer, nonce: str, third: str) -> dict[str, str]:
    message = f"{signer.ss58_address}:{nonce}:{third}"
    return {
        "X-Chutes-Hotkey": signer.ss58_address,
        "X-Chutes-Nonce": nonce,
        "X-Chutes-Signature": signer.sign(message),
    }


def test_tampered_body_is_rejected(standin, alice_signer):
    signed = b'{"chute_id_or_name":"a","user_id_or_name":"bob"}'
    sent = b'{"chute_id_or_name":"b","user_id_or_name":"bob"}'
    headers = _raw_headers(alice_signer, str(int(time.time())), hashlib.sha256(signed).hexdigest())
    response = httpx.post(f"{standin.url}/chutes/share", content=sent, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == (
        f"Invalid request signature for hotkey {alice_signer.ss58_address}"
    )


def test_wrong_signature_and_wrong_purpose_are_rejected(standin, alice_signer, bob_signer):
    nonce = str(int(time.time()))
    wrong_key = _raw_headers(bob_signer, nonce, "me")
    wrong_key["X-Chutes-Hotkey"] = alice_signer.ss58_address
    assert httpx.get(f"{standin.url}/users/me", headers=wrong_key).status_code == 401
    wrong_purpose = _raw_headers(alice_signer, nonce, "images")
    response = httpx.get(f"{standin.url}/users/me", headers=wrong_purpose)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid request signature for hotkey ")
    right = _raw_headers(alice_signer, nonce, "me")
    assert httpx.get(f"{standin.url}/users/me", headers=right).status_code == 200


def test_purpose_wins_over_body_hash_on_a_route_with_a_purpose(standin, alice_signer):
    nonce = str(int(time.time()))
    body = b"ignored"
    by_hash = _raw_headers(alice_signer, nonce, hashlib.sha256(body).hexdigest())
    assert (
        httpx.request(
            "DELETE", f"{standin.url}/api_keys/x", content=body, headers=by_hash
        ).status_code
        == 401
    )
    by_purpose = _raw_headers(alice_signer, nonce, "api_keys")
    assert (
        httpx.request(
            "DELETE", f"{standin.url}/api_keys/x", content=body, headers=by_purpose
        ).status_code
        == 404
    )


@pytest.mark.parametrize("nonce", ["not-a-number", "-5", "{old}", "{future}"])
def test_bad_or_stale_nonce(standin, alice_signer, nonce):
    now = int(time.time())
    nonce = nonce.format(old=now - 601, future=now + 601)
    response = httpx.get(f"{standin.url}/users/me", headers=_raw_headers(alice_signer, nonce, "me"))
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid nonce!"})


async def test_client_with_a_skewed_clock_gets_a_clear_error(standin, sleeps):
    settings = settings_for(standin)
    async with ChutesClient(settings, clock=lambda: time.time() - 700, sleep=sleeps) as client:
        with pytest.raises(PlatformAuthError, match=r"(?s)^GET /users/me: .*Invalid nonce!.*clock"):
            await client.get_me()
    assert sleeps == []  # 401 is never retried


async def test_unknown_hotkey(standin, sleeps):
    stranger = Signer("33" * 32)
    settings = settings_for(standin)
    settings = type(settings)(
        **{
            **settings.__dict__,
            "hotkey_seed": "33" * 32,
            "hotkey_ss58address": stranger.ss58_address,
        }
    )
    async with ChutesClient(settings, sleep=sleeps) as client:
        with pytest.raises(PlatformAuthError, match="Could not find user with hotkey: 5"):
            await client.get_me()


def test_partial_hotkey_headers_fall_through_to_api_key_auth(standin, alice_signer):
    headers = _raw_headers(alice_signer, str(int(time.time())), "me")
    del headers["X-Chutes-Signature"]
    response = httpx.get(f"{standin.url}/users/me", headers=headers)
    assert response.status_code == 401
    assert json.loads(response.text)["detail"].startswith("Can't authenticate")
