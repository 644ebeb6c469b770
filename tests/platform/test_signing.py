"""Request signing (CHUTES_API.md §1.1)."""

from __future__ import annotations

import hashlib

import pytest
from substrateinterface import Keypair

from chutes_build.platform import Signer, auth_headers, signing_message

WORKED_BODY = b'{"chute_id_or_name":"abc","user_id_or_name":"bob"}'


def test_worked_example_message_and_signature():
    signer = Signer("0x" + "11" * 32)
    assert signer.ss58_address == "5DtDLm5rQHShDqojQpsvcN8tRXHVFaecfDoRet1SU6BFD9Fi"
    message = signing_message(signer.ss58_address, "1700000000", WORKED_BODY, None)
    assert message == (
        f"{signer.ss58_address}:1700000000:{hashlib.sha256(WORKED_BODY).hexdigest()}"
    )
    signature = signer.sign(message)
    assert len(signature) == 128 and signature == signature.lower()
    assert not signature.startswith("0x")
    checker = Keypair(ss58_address=signer.ss58_address)
    assert checker.verify(message.encode(), bytes.fromhex(signature))
    assert not checker.verify((message + "x").encode(), bytes.fromhex(signature))


def test_purpose_used_without_body_and_body_hash_with_one():
    assert signing_message("hk", "1", None, "images") == "hk:1:images"
    assert signing_message("hk", "1", b"", "images") == "hk:1:images"
    assert signing_message("hk", "1", b"x", "images").endswith(hashlib.sha256(b"x").hexdigest())
    with pytest.raises(ValueError, match="purpose"):
        signing_message("hk", "1", None, None)


def test_auth_headers_sign_the_given_bytes(alice_signer):
    headers = auth_headers(
        alice_signer, nonce="1700000000", body=b"abc", user_id="u-1", versioned=True
    )
    assert headers["X-Chutes-Hotkey"] == alice_signer.ss58_address
    assert headers["X-Chutes-Nonce"] == "1700000000"
    assert headers["X-Chutes-UserID"] == "u-1"
    assert headers["X-Chutes-Version"] == "0.6.9"
    message = f"{alice_signer.ss58_address}:1700000000:{hashlib.sha256(b'abc').hexdigest()}"
    assert Keypair(ss58_address=alice_signer.ss58_address).verify(
        message.encode(), bytes.fromhex(headers["X-Chutes-Signature"])
    )
    assert "Authorization" not in headers


def test_api_key_goes_in_authorization_only():
    headers = auth_headers(None, nonce="1", api_key="cpk_abc")
    assert headers == {"Authorization": "Basic cpk_abc"}


def test_signer_repr_hides_the_seed(alice_signer):
    assert "11" * 8 not in repr(alice_signer)
    assert alice_signer.ss58_address in repr(alice_signer)


def test_a_seed_that_does_not_match_the_address_is_caught(alice_signer, bob_signer):
    from chutes_build.platform import PlatformConfigError

    mismatched = Signer("22" * 32, alice_signer.ss58_address)
    with pytest.raises(PlatformConfigError, match=r"^hotkey_ss58address 5\w+ does not belong"):
        mismatched.sign("x")
