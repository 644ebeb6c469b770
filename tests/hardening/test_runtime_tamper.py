# ruff: noqa: E501 - one case per line reads best in these tables
"""Issue 7: tampered production requests are refused with the platform's answer, before any cord.

A production-mode server runs in its own process (tests/hardening/_runtime_server.py)
with the test validator's session key. Every case sends a request a validator
would send, with one thing changed, and checks the exact status and detail the
platform's instance code uses (CHUTES_API.md §6.3-§6.4):

* 401 ``go away (missing)``: a header absent or empty, a foreign miner or
  validator hotkey, a nonce that is not a number or is out of the window;
* 401 ``go away (sig)``: a signature that does not verify;
* 404 ``Bad path: <raw path>``: a path that does not decrypt;
* 400 ``Decryption failed``: a body that does not decrypt.

Two choices are stricter than the platform (see chutes_runtime/_auth.py): a
nonce more than the window (540 s) in the future is refused like a stale one,
and a request whose (nonce, signature) was already accepted gets 401
``go away (replay)``. The ``calls`` cord reports the chute's invocation counter:
it must not move for any refused request.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Iterator

import pytest

from ._runtime_proc import ServerProcess
from ._runtime_raw import exchange, signed, statuses

MISSING = (401, {"detail": "go away (missing)"})
SIG = (401, {"detail": "go away (sig)"})
DECRYPT = (400, {"detail": "Decryption failed"})
REPLAY = (401, {"detail": "go away (replay)"})


@pytest.fixture(scope="module")
def prod() -> Iterator[ServerProcess]:
    proc = ServerProcess("prod")
    yield proc
    assert proc.unexpected_errors() == []
    proc.stop()


@pytest.fixture(scope="module")
def eve():
    from substrateinterface import Keypair

    return Keypair.create_from_uri("//Eve")


def calls(prod: ServerProcess) -> dict:
    client = prod.client()
    answer = client.call("POST", "/calls")
    assert answer.status_code == 200, answer.text
    return json.loads(client.dec(answer.json()["json"]))


def body_of(prod: ServerProcess, obj: object) -> bytes:
    return gzip.compress(json.dumps(obj).encode())


def sealed(prod: ServerProcess, plain: bytes) -> bytes:
    """nonce(12) || ciphertext || tag(16), not yet base64-encoded."""
    return prod.client().encrypt(plain)


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def _header_cases(eve) -> list[tuple[str, dict, tuple]]:
    now = int(time.time())
    return [
        ("stale nonce (540 s)", {"nonce": now - 540}, MISSING),
        ("stale nonce (1 day)", {"nonce": now - 86400}, MISSING),
        ("future nonce beyond the window", {"nonce": now + 541}, MISSING),
        ("far-future nonce", {"nonce": now + 10**9}, MISSING),
        ("signed by another key", {"keypair": eve}, SIG),
        ("foreign miner hotkey", {"miner": eve.ss58_address}, MISSING),
    ]


def _raw_header_cases(prod: ServerProcess, eve) -> list[tuple[str, dict, tuple]]:
    client = prod.client()
    good = client.headers(base64.b64encode(sealed(prod, body_of(prod, {"a": 1}))))
    sig = good["X-Chutes-Signature"]
    swapped = client.headers(None)  # a valid bodyless signature on a request with a body
    cases = [
        (
            "tampered signature",
            {"X-Chutes-Signature": sig[:-2] + ("00" if sig[-2:] != "00" else "11")},
            SIG,
        ),
        ("signature not hex", {"X-Chutes-Signature": "zz" * 64}, SIG),
        ("signature too short", {"X-Chutes-Signature": sig[:64]}, SIG),
        (
            "signature for another body",
            {
                "X-Chutes-Signature": swapped["X-Chutes-Signature"],
                "X-Chutes-Nonce": swapped["X-Chutes-Nonce"],
            },
            SIG,
        ),
        ("foreign validator hotkey", {"X-Chutes-Validator": eve.ss58_address}, MISSING),
        ("nonce not a number", {"X-Chutes-Nonce": "soon"}, MISSING),
        ("nonce negative", {"X-Chutes-Nonce": "-5"}, MISSING),
        ("nonce with underscores", {"X-Chutes-Nonce": "1_7"}, MISSING),
        ("nonce of 5000 digits", {"X-Chutes-Nonce": "9" * 5000}, MISSING),
        ("miner not UTF-8", {"X-Chutes-Miner": b"\xff\xfe"}, MISSING),
        ("validator not UTF-8", {"X-Chutes-Validator": b"\xc3\x28"}, MISSING),
        ("nonce not UTF-8", {"X-Chutes-Nonce": b"\xd9\xa1"}, MISSING),
        ("signature not UTF-8", {"X-Chutes-Signature": b"\xff" * 10}, SIG),
    ]
    for name in ("Miner", "Validator", "Nonce", "Signature"):
        cases.append((f"{name} missing", {f"X-Chutes-{name}": None}, MISSING))
        cases.append((f"{name} empty", {f"X-Chutes-{name}": ""}, MISSING))
    return cases  # fmt: skip


def _send(prod: ServerProcess, override: dict) -> tuple[int, dict]:
    """POST /echo {"a": 1} with some signed headers replaced (None: removed)."""
    client = prod.client()
    body = base64.b64encode(sealed(prod, body_of(prod, {"a": 1})))
    headers = {**client.headers(body), "Content-Type": "text/plain; charset=utf-8"}
    for key, value in override.items():
        headers.pop(key, None)
        if value is not None:
            headers[key] = value
    request = client.http.build_request(
        "POST", client.url + client.enc_path("/echo"), content=body, headers=headers
    )
    answer = client.http.send(request)
    return answer.status_code, answer.json()


def test_signed_headers_tampered(prod: ServerProcess, eve) -> None:
    before = calls(prod)
    for name, sign, expected in _header_cases(eve):
        answer = prod.client().call("POST", "/echo", {"a": 1}, **sign)
        assert (answer.status_code, answer.json()) == expected, name
    for name, override, expected in _raw_header_cases(prod, eve):
        assert _send(prod, override) == expected, name
    assert calls(prod) == before


def test_nonce_inside_the_window_either_side_is_accepted(prod: ServerProcess) -> None:
    now = int(time.time())
    for nonce in (now - 530, now, now + 530):
        assert prod.client().call("POST", "/echo", {"a": 1}, nonce=nonce).status_code == 200


def _body_cases(prod: ServerProcess) -> list[tuple[str, bytes]]:
    blob = sealed(prod, body_of(prod, {"a": 1}))
    b64 = base64.b64encode
    other = bytes(12) + b"\x00" * 40
    return [
        ("truncated by one byte", b64(blob[:-1])),
        ("truncated to the nonce", b64(blob[:12])),
        ("truncated to 27 bytes", b64(blob[:27])),
        ("bit flipped in the nonce", b64(flip(blob, 3))),
        ("bit flipped in the ciphertext", b64(flip(blob, 14))),
        ("bit flipped in the tag", b64(flip(blob, len(blob) - 2))),
        ("tag removed", b64(blob[:-16])),
        ("zero key material", b64(other)),
        ("not base64", b"!!!! not base64 ~~~~"),
        ("base64 of plain JSON", b64(b'{"a": 1}')),
        ("plain JSON", b'{"a": 1}'),
        ("base64 cut mid-quantum", b64(blob)[:-3]),
    ]


def test_ciphertexts_tampered(prod: ServerProcess) -> None:
    before = calls(prod)
    for name, body in _body_cases(prod):
        answer = prod.client().call("POST", "/echo", body=body)
        assert (answer.status_code, answer.json()) == DECRYPT, name
    assert calls(prod) == before


def test_paths_tampered(prod: ServerProcess) -> None:
    client = prod.client()
    before = calls(prod)
    path = client.enc_path("/echo")
    blob = bytes.fromhex(path[1:])
    foreign = "/" + (bytes(12) + b"\x00" * 40).hex()
    cases = [
        "/" + flip(blob, 2).hex(),
        "/" + flip(blob, 20).hex(),
        "/" + flip(blob, len(blob) - 1).hex(),
        "/" + blob[:-1].hex(),
        path[:-1],
        "/" + blob.hex() + "00",
        "/zz" + path[3:],
        "/",
        foreign,
        "/echo",
        "/_slurp",
    ]
    for raw in cases:
        answer = client.call("POST", "", {"a": 1}, raw_path=raw)
        assert (answer.status_code, answer.json()) == (404, {"detail": f"Bad path: {raw}"}), raw
    assert calls(prod) == before


def test_issue7_replayed_request_is_refused(prod: ServerProcess) -> None:
    """The same signed bytes twice: the second is a replay (the platform would run it twice)."""
    data = signed(prod.client(), "POST", "/echo", {"a": "once"})
    before = calls(prod)
    assert statuses(exchange(prod.port, data)) == [200]
    replay = exchange(prod.port, data)
    assert statuses(replay) == [401] and replay.endswith(b'{"detail":"go away (replay)"}')
    assert calls(prod)["echo"] == before.get("echo", 0) + 1


def test_issue7_replay_of_a_bodyless_signature_on_another_path(prod: ServerProcess) -> None:
    """A bodyless signature covers only ``miner:validator:nonce:chutes``, not the path."""
    client = prod.client()
    headers = client.headers(None)
    first = client.http.post(client.url + client.enc_path("/calls"), headers=headers)
    assert first.status_code == 200
    again = client.http.post(client.url + client.enc_path("/tokens"), headers=headers)
    assert (again.status_code, again.json()) == REPLAY


def test_issue7_far_future_nonce_is_refused(prod: ServerProcess) -> None:
    """The platform accepts any future nonce; we refuse one beyond the window (540 s)."""
    before = calls(prod)
    answer = prod.client().call("POST", "/echo", {"a": 1}, nonce=int(time.time()) + 3600)
    assert (answer.status_code, answer.json()) == MISSING
    assert calls(prod) == before


def test_e2e_flag_and_bad_plaintext_never_reach_a_cord(prod: ServerProcess) -> None:
    client = prod.client()
    before = calls(prod)
    e2e = client.call("POST", "/echo", {"a": 1}, extra={"X-E2E-Encrypted": "true"})
    assert e2e.status_code == 400
    for plain in (b"\x1f\x8b not gzip", b"\x1f\x8b\x08\x00" + bytes(20), b"\xff\xfe", b"[1, 2"):
        answer = client.call("POST", "/echo", body=base64.b64encode(sealed(prod, plain)))
        assert 400 <= answer.status_code < 500, (plain, answer.text)
    assert calls(prod) == before


def test_issue7_corrupt_gzip_and_gzip_bomb_are_decryption_failures(prod: ServerProcess) -> None:
    """Authenticated but broken plaintext: zlib.error was a 500; a bomb expanded unbounded."""
    client = prod.client()
    before = calls(prod)
    corrupt = b"\x1f\x8b\x08\x00" + bytes(20)
    bomb = gzip.compress(b"[" + b" " * (8 << 20) + b"]")  # 8 MiB of JSON, limit is 1 MiB
    for plain in (corrupt, bomb, gzip.compress(b"{}")[:-5]):
        answer = client.call("POST", "/echo", body=base64.b64encode(sealed(prod, plain)))
        assert (answer.status_code, answer.json()) == DECRYPT
    assert calls(prod) == before


def test_issue7_replay_cache_is_bounded() -> None:
    from chutes_runtime._auth import ReplayCache

    cache = ReplayCache(window_s=540, capacity=100)
    now = 1_000_000
    assert cache.add(now, b"sig-a", now) and not cache.add(now, b"sig-a", now)
    for i in range(500):  # over capacity: the oldest entries go first
        assert cache.add(now - 500 + i, f"s{i}".encode(), now)
    assert len(cache) == 100
    assert cache.add(now - 500, b"s0", now)  # evicted at capacity: forgotten (logged)
    assert not cache.add(now - 1, b"s499", now)  # recent ones are kept
    assert cache.add(now, b"late", now + 540) and len(cache) == 1  # expired entries leave
