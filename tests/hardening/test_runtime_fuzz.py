# ruff: noqa: E501 - one case per line reads best in these tables
"""Issue 7: random and mutated requests against a runtime served in its own process.

Two levels, both against a dev-mode and a production-mode server
(tests/hardening/_runtime_server.py): hypothesis-built requests through httpx,
and raw bytes over a socket (hand-written hostile cases, mutated valid
requests, partial sends). After every batch the process must be alive and
answer its health endpoint, its log must hold no ERROR other than the
``boom`` cord's, and no client error may be a 5xx: the only 500 is user code
raising (checked with the ``boom`` cord). The last test bounds RSS growth.

``RUNTIME_FUZZ_EXAMPLES`` raises the examples per property (bench/fuzz_long.sh style).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._runtime_proc import ServerProcess
from ._runtime_raw import HOSTILE, J, exchange, first_status, request, signed, statuses

EXAMPLES = int(os.environ.get("RUNTIME_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Cases where the client half-closes before its request is complete: closing is the answer.
TRUNCATED = {"bare lf", "cl lie long", "chunk truncated"}
CORDS = ["/echo", "/item", "/v1/item", "/v1/square", "/tokens", "/calls", "/square"]
INTERNAL = ["/_ping", "/_alive", "/_metrics", "/_conn_stats", "/openapi.json", "/_slurp"]
STATE: dict[str, int] = {}


def tally(name: str, server: ServerProcess, cases: int) -> None:
    """Record how many cases a property ran (printed; ``pytest -s`` shows it)."""
    assert cases >= min(EXAMPLES, 20), (name, cases)
    print(f"\n[runtime-fuzz] {name}[{server.mode}]: {cases} cases")


@pytest.fixture(scope="module")
def dev_server() -> Iterator[ServerProcess]:
    proc = ServerProcess("dev", body_timeout=1.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def prod_server() -> Iterator[ServerProcess]:
    proc = ServerProcess("prod", body_timeout=1.0)
    yield proc
    proc.stop()


@pytest.fixture(scope="module", params=["dev", "prod"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """Both modes, for the properties that hold in each (one process per mode)."""
    return request.getfixturevalue(f"{request.param}_server")


def healthy(server: ServerProcess) -> None:
    """The batch left the server alive, answering, and with nothing unexpected in its log."""
    assert server.alive(), server.log_text()[-3000:]
    assert server.ping(), "health endpoint did not answer"
    assert server.unexpected_errors() == []


def no_server_error(response: bytes, what: object) -> None:
    assert b"<hang>" not in response, f"server neither answered nor closed: {what!r}"
    assert all(code < 500 for code in statuses(response)), (what, response[:400])


def test_user_code_is_the_only_500(server: ServerProcess) -> None:
    if server.mode == "dev":
        boom = server.http.post("/boom", json={})
        echo = server.http.post("/echo", json={"a": 1})
    else:
        client = server.client()
        boom = client.call("POST", "/boom", {})
        echo = client.call("POST", "/echo", {"a": 1})
    assert (boom.status_code, boom.json()) == (500, {"detail": "Internal Server Error"})
    assert echo.status_code == 200
    STATE[f"{server.mode}-warm"] = 0  # warm-up done below, after the hostile batch


def test_hostile_raw_requests(server: ServerProcess) -> None:
    for name, data in HOSTILE:
        response = exchange(server.port, data)
        no_server_error(response, name)
        if name not in TRUNCATED:
            assert first_status(response) is not None, (name, response[:200])
    healthy(server)
    STATE[f"{server.mode}-warm"] = server.rss_kb()


_TOKENS = [
    b"\r\n", b"\r\n\r\n", b":", b" ", b"\x00", b"\xff", b"%", b"?", b";", b"chunked",
    b"content-length: 99999\r\n", b"transfer-encoding: chunked\r\n", b"0\r\n\r\n",
    b"ffffffff\r\n", b"expect: 100-continue\r\n", b"\xc3\x28", b"-1", b"9" * 40,
]  # fmt: skip


def _seeds(server: ServerProcess) -> list[bytes]:
    if server.mode == "dev":
        chunked = request(headers=[(b"transfer-encoding", b"chunked")], length=False)
        return [
            request(body=J),
            request(target=b"/v1/item", body=b'{"text": "a", "n": 2}'),
            request(method=b"GET", target=b"/v1/square?n=3"),
            chunked + b'4\r\n{"a"\r\n4\r\n: 1}\r\n0\r\n\r\n',
            b"GET /_ping HTTP/1.1\r\nhost: x\r\n\r\n" * 2,
            request(target=b"/tokens", body=b"{}", headers=[(b"expect", b"100-continue")]),
        ]
    client = server.client()
    return [
        signed(client, "POST", "/echo", {"a": 1}),
        signed(client, "POST", "/item", {"text": "a", "n": 2}),
        signed(client, "POST", "/_ping", {"foo": "x"}),
        signed(client, "GET", "/_devices"),
        signed(client, "POST", "/calls"),
    ]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> list[bytes]:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup", "truncate", "token"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 32))]
        elif op == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.sampled_from(_TOKENS))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    return [bytes(data[a:b]) for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def test_mutated_raw_requests(server: ServerProcess) -> None:
    seeds = _seeds(server)
    tried = []

    @FUZZ
    @given(pieces=mutated(seeds))
    def check(pieces: list[bytes]) -> None:
        tried.append(1)
        no_server_error(exchange(server.port, pieces), pieces)

    check()
    healthy(server)
    tally("mutated raw requests", server, len(tried))


_methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
_paths = st.one_of(
    st.sampled_from(CORDS + INTERNAL + ["/boom"]),
    st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_categories=("Cc",)),
        max_size=40,
    ).map(lambda s: "/" + s),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_header_names = st.sampled_from(
    ["content-type", "x-chutes-nonce", "x-chutes-miner", "x-chutes-signature", "x-conn-expip",
     "x-e2e-encrypted", "accept", "x-custom", "expect"]
)  # fmt: skip
_header_values = st.one_of(
    st.sampled_from(["application/msgpack", "application/json", "true", "100-continue", ""]),
    st.binary(max_size=40).map(lambda b: bytes(c for c in b if c > 32 and c != 127)),
)  # what an HTTP client lets through (h11 refuses control bytes and edge spaces)
_bodies = st.one_of(
    st.none(),
    st.binary(max_size=300),
    _json.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"text": st.text(max_size=10), "n": st.integers()}).map(
        lambda v: json.dumps(v).encode()
    ),
)


def test_http_requests(server: ServerProcess) -> None:
    http = httpx.Client(base_url=server.url, timeout=30)
    tried = []

    @FUZZ
    @given(
        method=_methods,
        path=_paths,
        headers=st.dictionaries(_header_names, _header_values, max_size=4),
        body=_bodies,
        query=st.dictionaries(st.sampled_from(["n", "challenge", "x"]), st.text(max_size=8)),
    )
    def check(method: str, path: str, headers: dict, body: bytes | None, query: dict) -> None:
        tried.append(1)
        answer = http.request(method, path, headers=headers, content=body, params=query)
        boom = server.mode == "dev" and path == "/boom" and method == "POST"
        assert answer.status_code < 500 or boom, (method, path, headers, body, answer.text)

    try:
        check()
    finally:
        http.close()
    healthy(server)
    tally("http requests", server, len(tried))


def test_signed_requests_with_fuzzed_plaintext(prod_server: ServerProcess) -> None:
    """Production: valid signature and path, hostile content behind the encryption."""
    server = prod_server
    client = server.client()
    tried = []
    targets = ["/echo", "/item", "/tokens", "/_ping", "/_slurp", "/_fs_challenge", "/calls"]

    @FUZZ
    @given(
        path=st.sampled_from(targets),
        plain=st.one_of(
            st.binary(max_size=200),
            _json.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=200).map(gzip.compress),
        ),
        wrap=st.sampled_from(["gzip", "raw", "unencoded"]),
        extra=st.dictionaries(_header_names, _header_values, max_size=2),
    )
    def check(path: str, plain: bytes, wrap: str, extra: dict) -> None:
        tried.append(1)
        inner = gzip.compress(plain) if wrap == "gzip" else plain
        body = base64.b64encode(client.encrypt(inner)) if wrap != "unencoded" else inner
        extra = {k: v for k, v in extra.items() if not k.startswith("x-chutes")}
        answer = client.call("POST", path, body=body or None, extra=extra)
        assert answer.status_code < 500, (path, plain, wrap, extra, answer.text)

    check()
    healthy(server)
    tally("signed requests, fuzzed plaintext", server, len(tried))


def test_issue7_slowloris_is_bounded(server: ServerProcess) -> None:
    """Stalled headers and stalled bodies: health answers meanwhile; bodies end in 408."""
    socks = []
    try:
        for i in range(8):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 2:
                sock.sendall(b"POST /echo HTTP/1.1\r\nhost: x\r\nx-slow: ")
            else:
                head = request(headers=[(b"content-length", b"50")], length=False)
                sock.sendall(head + b'{"a"')
            socks.append(sock)
        assert server.ping()
        assert server.conn_stats()["in_flight"] == 0  # issue 7: a stalled body holds no slot
        for sock in socks[::2]:  # the stalled bodies are cut off after body_timeout (1 s)
            data = sock.recv(4096)
            assert first_status(data) in (408, 401, 404), data
    finally:
        for sock in socks:
            sock.close()
    healthy(server)


def test_issue7_stalled_bodies_do_not_take_the_concurrency_slots(dev_server: ServerProcess) -> None:
    """Before the fix, ``concurrency`` uploads that stalled left every other caller a 429.
    (Dev mode: production reads the body before dispatch anyway.)"""
    server = dev_server
    stalled = []
    try:
        for _ in range(6):  # more than concurrency (4)
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(request(headers=[(b"content-length", b"10")], length=False) + b"{")
            stalled.append(sock)
        time.sleep(0.2)  # let the server read what was sent (no pass/fail timing here)
        assert server.http.post("/echo", json={"a": 2}).status_code == 200
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("non-ascii method", b"G\xc9T / HTTP/1.1\r\nhost: x\r\n\r\n"),
        ("non-ascii version", b"GET / HTTP/1.\xff\r\nhost: x\r\n\r\n"),
        ("empty method", b" / HTTP/1.1\r\nhost: x\r\n\r\n"),
        ("content-length of 5000 digits", request(headers=[(b"content-length", b"9" * 5000)], length=False)),
        ("two content-lengths", request(headers=[(b"content-length", b"8"), (b"content-length", b"3")], body=J, length=False)),
        ("content-length and chunked", request(headers=[(b"content-length", b"8"), (b"transfer-encoding", b"chunked")], body=b"8\r\n" + J + b"\r\n0\r\n\r\n", length=False)),
        ("transfer-encoding gzip", request(headers=[(b"transfer-encoding", b"gzip")], body=J, length=False)),
        ("negative chunk size", request(headers=[(b"transfer-encoding", b"chunked")], body=b"-5\r\nhello\r\n0\r\n\r\n", length=False)),
        ("chunk size with +", request(headers=[(b"transfer-encoding", b"chunked")], body=b"+8\r\n" + J + b"\r\n0\r\n\r\n", length=False)),
        ("chunk without its CRLF", request(headers=[(b"transfer-encoding", b"chunked")], body=b"2\r\n{}a\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n", length=False)),
        ("endless chunk-size line", request(headers=[(b"transfer-encoding", b"chunked")], body=b"1" * 200_000, length=False)),
    ],
)  # fmt: skip
def test_issue7_malformed_framing_is_a_400(
    dev_server: ServerProcess, name: str, data: bytes
) -> None:
    """Each of these used to drop the connection silently, hang, or be read loosely.
    (The HTTP layer is the same in both modes, so dev mode covers it.)"""
    server = dev_server
    assert statuses(exchange(server.port, data)) == [400], name
    assert server.unexpected_errors() == []


def test_issue7_invalid_utf8_in_a_json_body_is_a_400(server: ServerProcess) -> None:
    """msgspec raises UnicodeDecodeError (not DecodeError) for it: that was a 500."""
    body = b'{"a": "\xff"}'
    if server.mode == "dev":
        for path in ("/echo", "/_ping"):
            answer = server.http.post(path, content=body)
            assert answer.status_code == 400, answer.text
    else:
        client = server.client()
        blob = client.seal(body)
        for path in ("/echo", "/_ping"):
            answer = client.call("POST", path, body=blob)
            assert answer.status_code == 400, answer.text
    assert server.unexpected_errors() == []


def test_memory_stays_flat(server: ServerProcess) -> None:
    """RSS after all batches against RSS after the hostile warm-up batch (a memory bound)."""
    warm, now = STATE[f"{server.mode}-warm"], server.rss_kb()
    assert now - warm < max(warm // 2, 32 * 1024), (warm, now)


def test_issue7_unread_body_means_connection_close(server: ServerProcess) -> None:
    """A response sent before the body was read closes the connection: it must say so.

    It did not, so a pooled client (httpx) sent its next request into a socket
    being closed and got a ReadError.
    """
    keep = [(b"connection", b"keep-alive"), (b"content-length", b"100")]
    data = request(target=b"/nowhere", headers=keep, length=False).replace(
        b"connection: close\r\n", b""
    )
    response = exchange(server.port, data + b"{")
    assert first_status(response) == 404 and b"connection: close\r\n" in response.lower()
