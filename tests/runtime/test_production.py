"""Production mode against the test validator: handshake, signatures, encryption, framing."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port, require

from .conftest import CHUTES, Served, Upstream, serve
from .validator import UUIDS, FakeGpu, Validator, ValidatorClient, make_jwt


@pytest.fixture(scope="module")
def keys() -> tuple:
    from substrateinterface import Keypair

    return (
        Keypair.create_from_uri("//Alice"),
        Keypair.create_from_uri("//Bob"),
        Keypair.create_from_uri("//Eve"),
    )


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    import threading

    import uvicorn

    with open(os.path.join(CHUTES, "dev_chute.py")) as handle:
        app = Validator(handle.read())
    app.port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=app.port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield app
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def prod(
    validator: Validator, keys: tuple, upstream: tuple[Upstream, int]
) -> Iterator[tuple[Served, ValidatorClient, FakeGpu]]:
    os.environ["RUNTIME_TEST_UPSTREAM_PORT"] = str(upstream[1])
    alice, bob, _ = keys
    gpu = FakeGpu()
    jwt = make_jwt(
        {"url": validator.base, "sub": "cfg-1", "chute_id": "chute-1", "env_type": "graval"}
    )
    served = serve(
        "dev_chute.py:chute",
        gpu=gpu,
        miner_ss58=bob.ss58_address,
        validator_ss58=alice.ss58_address,
        launch_jwt=jwt,
        external_host="203.0.113.7",
    )
    client = ValidatorClient(served.url, validator.session_key, alice, bob.ss58_address)
    yield served, client, gpu
    served.stop()
    os.environ.pop("TEST_SECRET", None)


def _local_source_available() -> bool:
    try:
        httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")).close()
        return True
    except OSError:
        return False


def test_launch_handshake(prod, validator: Validator) -> None:
    served, _, gpu = prod
    assert validator.verified
    assert gpu.proved == [(4242, 2)]
    inventory = validator.inventory
    assert [g["uuid"] for g in inventory["gpus"]] == list(UUIDS)
    assert inventory["rint_nonce"] == validator.nonce
    assert inventory["host"] == "203.0.113.7"
    assert validator.activated.wait(20)


def test_encrypted_call_round_trip(prod) -> None:
    _, client, _ = prod
    answer = client.call("POST", "/echo", {"text": "ab", "times": 3})
    assert answer.status_code == 200, answer.text
    assert json.loads(client.dec(answer.json()["json"])) == {"text": "ababab"}
    assert answer.headers["x-chutes-conn-used"] == "1"
    assert answer.headers["x-chutes-conn-utilization"] == "0.3333"


def test_secrets_from_the_handshake_reach_cords(prod) -> None:
    _, client, _ = prod
    answer = client.call("POST", "/secret")
    assert json.loads(client.dec(answer.json()["json"])) == {"secret": "s3cret"}


def test_stream_frames_each_chunk_as_encrypted_line(prod) -> None:
    _, client, _ = prod
    response = client.call("POST", "/tokens", {"n": 3}, stream=True)
    try:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
    finally:
        response.close()
    assert [client.dec(line) for line in lines] == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]


def test_stream_failing_at_start_is_500(prod) -> None:
    _, client, _ = prod
    answer = client.call("POST", "/bad_stream", {})
    assert (answer.status_code, answer.json()) == (500, {"detail": "Error initializing stream"})


def test_validation_and_user_errors(prod) -> None:
    _, client, _ = prod
    bad = client.call("POST", "/echo", {"text": 1})
    assert (bad.status_code, bad.json()["detail"]) == (
        422,
        "Expected `str`, got `int` - at `$.text`",
    )
    boom = client.call("POST", "/boom", {})
    assert (boom.status_code, boom.json()) == (500, {"detail": "Internal Server Error"})


def test_response_objects_are_wrapped(prod) -> None:
    _, client, _ = prod
    answer = client.call("POST", "/file").json()
    assert (answer["type"], answer["status_code"], answer["media_type"]) == (
        "FileResponse",
        200,
        "text/plain",
    )
    assert client.dec(answer["body"]) == b"file body"


def test_nonce_window(prod) -> None:
    _, client, _ = prod
    now = int(time.time())
    stale = client.call("POST", "/echo", {"text": "x"}, nonce=now - 540)
    assert (stale.status_code, stale.json()) == (401, {"detail": "go away (missing)"})
    assert client.call("POST", "/echo", {"text": "x"}, nonce=now - 530).status_code == 200
    assert client.call("POST", "/echo", {"text": "x"}, nonce=now + 530).status_code == 200
    # issue 7: stricter than the platform, a nonce beyond the window ahead is refused too
    future = client.call("POST", "/echo", {"text": "x"}, nonce=now + 3600)
    assert (future.status_code, future.json()) == (401, {"detail": "go away (missing)"})


def test_bad_signature_and_wrong_keys(prod, keys: tuple) -> None:
    _, client, _ = prod
    eve = keys[2]
    forged = client.call("POST", "/echo", {"text": "x"}, keypair=eve)
    assert (forged.status_code, forged.json()) == (401, {"detail": "go away (sig)"})
    foreign = client.call("POST", "/echo", {"text": "x"}, miner=eve.ss58_address)
    assert (foreign.status_code, foreign.json()) == (401, {"detail": "go away (missing)"})
    unsigned = client.http.post(client.url + client.enc_path("/echo"), content=b"x")
    assert unsigned.json() == {"detail": "go away (missing)"}


def test_bad_path_and_bad_body(prod) -> None:
    _, client, _ = prod
    bad_path = client.call("POST", "", {"text": "x"}, raw_path="/" + "ab" * 30)
    assert bad_path.status_code == 404
    assert bad_path.json()["detail"].startswith("Bad path: /abab")
    garbage = client.call("POST", "/echo", body=base64.b64encode(b"not a ciphertext at all, no"))
    assert (garbage.status_code, garbage.json()) == (400, {"detail": "Decryption failed"})


def test_ip_pinning(prod) -> None:
    _, client, _ = prod
    pinned = client.call("POST", "/echo", {"text": "x"}, extra={"X-Conn-ExpIP": "203.0.113.9"})
    assert (pinned.status_code, pinned.json()) == (403, {"detail": "IP mismatch"})


def test_internal_endpoints(prod) -> None:
    _, client, gpu = prod
    ping = client.call("POST", "/_ping", {"foo": "abc"})
    assert json.loads(client.dec(ping.json()["json"])) == {"foo": "abc"}
    assert client.call("GET", "/_devices").json() == gpu.devices()
    challenge = client.call("GET", "/_device_challenge", query={"challenge": "c0ffee"})
    assert challenge.text == gpu.device_challenge("c0ffee") and len(challenge.text) == 64
    path = os.path.join(CHUTES, "dev_chute.py")
    fs = client.call("POST", "/_fs_challenge", {"filename": path, "offset": 3, "length": 10})
    assert fs.text == gpu.fs_challenge(path, 3, 10)


def test_metrics_plain_from_private_ip(prod) -> None:
    _, client, _ = prod
    assert "total_requests" in client.http.get(client.url + "/_metrics").text


def test_localhost_skips_auth(prod) -> None:
    served, _, _ = prod
    assert httpx.post(served.url + "/echo", json={"text": "lo"}).json() == {"text": "lo"}


def test_passthrough_is_wrapped(prod) -> None:
    _, client, _ = prod
    answer = client.call("POST", "/complete", {"q": 1})
    assert json.loads(client.dec(answer.json()["json"])) == {"got": {"q": 1}}
    response = client.call("POST", "/complete_stream", {}, stream=True)
    try:
        lines = [client.dec(line) for line in response.iter_lines() if line]
    finally:
        response.close()
    assert b"".join(lines) == b"data: 0\n\ndata: 1\n\ndata: 2\n\ndata: [DONE]\n\n"
    teapot = client.call("POST", "/teapot", {})
    assert (teapot.status_code, teapot.json()) == (418, {"detail": {"error": "teapot"}})


def test_source_address_trick_works() -> None:
    require(_local_source_available(), "cannot bind 127.0.0.2 as a source address")


def test_issue_15_production_mode_has_no_reload_route(prod) -> None:
    served, client, _ = prod
    assert served.runtime.switch is None
    files = {"files": [{"path": "dev_chute.py", "data": ""}]}
    local = httpx.post(served.url + "/_chutes_build/reload", json=files)  # trusted localhost
    assert local.status_code == 404
    signed = client.call("POST", "/_chutes_build/reload", files)
    assert signed.status_code == 404
