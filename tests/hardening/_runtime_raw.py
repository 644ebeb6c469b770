# ruff: noqa: E501 - one case per line reads best in these tables
"""Raw HTTP/1.1 over a socket for the runtime fuzzers: hostile cases and a bounded exchange."""

from __future__ import annotations

import re
import socket

_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3}) ")


def exchange(port: int, data: bytes | list[bytes], timeout: float = 5.0) -> bytes:
    """Send ``data`` (pieces are sent separately), half-close, read until EOF (at most 1 MiB).

    ``timeout`` is a hang guard: a server that neither answers nor closes gives ``b"<hang>"``.
    """
    pieces = [data] if isinstance(data, bytes) else data
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server closed early (e.g. a 400 before the rest was sent)
            pass
        out = bytearray()
        try:
            while len(out) < 1 << 20:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
        except TimeoutError:
            return bytes(out) + b"<hang>"
        except ConnectionResetError:
            pass
    return bytes(out)


def statuses(response: bytes) -> list[int]:
    """Status codes of every response in ``response`` (pipelined answers included)."""
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", response)]


def first_status(response: bytes) -> int | None:
    match = _STATUS.match(response)
    return int(match.group(1)) if match else None


def request(
    method: bytes = b"POST",
    target: bytes = b"/echo",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    length: bool = True,
) -> bytes:
    head = [method + b" " + target + b" HTTP/1.1", b"host: x", b"connection: close"]
    head += [k + b": " + v for k, v in headers or ()]
    if length:
        head.append(b"content-length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def chunked(body: bytes) -> bytes:
    """A POST to /echo whose body is sent as-is under ``transfer-encoding: chunked``."""
    return request(headers=[(b"transfer-encoding", b"chunked")], body=body, length=False)


J = b'{"a": 1}'

#: Hand-written hostile requests: (name, bytes). A server may answer 4xx or close; never 5xx.
HOSTILE: list[tuple[str, bytes]] = [
    ("empty line", b"\r\n\r\n"),
    ("garbage", b"\x00\xff\xfe garbage \r\n\r\n"),
    ("no version", b"GET /\r\n\r\n"),
    ("bad version", b"GET / HTTP/9.9\r\n\r\n"),
    ("two spaces", b"GET  / HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("empty method", b" / HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("non-ascii method", b"G\xc9T / HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("non-ascii version", b"GET / HTTP/1.\xff\r\nhost: x\r\n\r\n"),
    ("non-ascii path", b"GET /\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("bad percent path", b"GET /%zz%ff%c3%28 HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("asterisk", b"OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("absolute uri", b"GET http://x/_ping HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("header no colon", b"GET / HTTP/1.1\r\nhost x\r\n\r\n"),
    ("header space before colon", b"GET / HTTP/1.1\r\nhost : x\r\n\r\n"),
    ("obs-fold", b"GET / HTTP/1.1\r\nhost: x\r\n folded\r\n\r\n"),
    ("bare lf", b"GET / HTTP/1.1\nhost: x\n\n"),
    ("nul in header", b"GET / HTTP/1.1\r\nhost: x\x00y\r\n\r\n"),
    ("cl negative", request(headers=[(b"content-length", b"-1")], body=J, length=False)),
    ("cl plus", request(headers=[(b"content-length", b"+8")], body=J, length=False)),
    ("cl hex", request(headers=[(b"content-length", b"0x8")], body=J, length=False)),
    ("cl huge digits", request(headers=[(b"content-length", b"9" * 5000)], body=J, length=False)),
    (
        "cl huge",
        request(headers=[(b"content-length", b"99999999999999999999")], body=J, length=False),
    ),
    (
        "cl unicode digit",
        request(headers=[(b"content-length", "\u0668".encode())], body=J, length=False),
    ),
    ("cl lie short", request(headers=[(b"content-length", b"3")], body=J, length=False)),
    ("cl lie long", request(headers=[(b"content-length", b"100")], body=J, length=False)),
    (
        "cl twice differing",
        request(
            headers=[(b"content-length", b"8"), (b"content-length", b"3")], body=J, length=False
        ),
    ),
    (
        "cl and chunked",
        request(
            headers=[(b"content-length", b"8"), (b"transfer-encoding", b"chunked")],
            body=b"8\r\n" + J + b"\r\n0\r\n\r\n",
            length=False,
        ),
    ),
    ("te gzip", request(headers=[(b"transfer-encoding", b"gzip")], body=J, length=False)),
    (
        "te gzip chunked",
        request(
            headers=[(b"transfer-encoding", b"gzip, chunked")],
            body=b"8\r\n" + J + b"\r\n0\r\n\r\n",
            length=False,
        ),
    ),
    ("chunk negative", chunked(b"-5\r\nhello\r\n0\r\n\r\n")),
    ("chunk plus", chunked(b"+8\r\n" + J + b"\r\n0\r\n\r\n")),
    ("chunk underscore", chunked(b"0_8\r\n" + J + b"\r\n0\r\n\r\n")),
    ("chunk not hex", chunked(b"zz\r\nhello\r\n0\r\n\r\n")),
    ("chunk huge", chunked(b"ffffffffffffffffffff\r\nhello")),
    ("chunk size lie", chunked(b"2\r\n" + J + b"\r\n0\r\n\r\n")),
    ("chunk no crlf after data", chunked(b"8\r\n" + J + b"XX0\r\n\r\n")),
    ("chunk ext", chunked(b"8;a=b\r\n" + J + b"\r\n0\r\n\r\n")),
    ("chunk truncated", chunked(b'8\r\n{"a')),
    ("chunk size line huge", chunked(b"1" * 200000)),
    ("huge header", b"GET / HTTP/1.1\r\nx: " + b"a" * 200000 + b"\r\n\r\n"),
    ("many headers", b"GET /_ping HTTP/1.1\r\n" + b"x: y\r\n" * 5000 + b"\r\n"),
    ("huge path", b"GET /" + b"a" * 60000 + b" HTTP/1.1\r\n\r\n"),
    ("expect 100", request(headers=[(b"expect", b"100-continue")], body=J)),
    ("expect weird", request(headers=[(b"expect", b"\xff")], body=J)),
    ("head cord", request(method=b"HEAD")),
    ("get cord", request(method=b"GET")),
    (
        "msgpack garbage",
        request(headers=[(b"content-type", b"application/msgpack")], body=b"\xc1\xc1"),
    ),
    ("json deep", request(body=b"[" * 100000 + b"]" * 100000)),
    ("json huge int", request(body=b'{"a": ' + b"9" * 10000 + b"}")),
    ("json bad utf8", request(body=b'{"a": "\xff"}')),
    ("json lone surrogate", request(body=b'{"a": "\\ud800"}')),
    (
        "body over limit",
        request(headers=[(b"content-length", b"%d" % (2 << 20))], body=b"", length=False),
    ),
    ("query cord bad", b"GET /v1/square?n=abc HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("query cord bad utf8", b"GET /v1/square?n=%ff HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("query cord huge int", b"GET /v1/square?n=" + b"9" * 5000 + b" HTTP/1.1\r\nhost: x\r\n\r\n"),
    ("item wrong type", request(target=b"/v1/item", body=b'{"text": 1}')),
    ("item bad", request(target=b"/item", body=b"[]")),
    (
        "pipelined",
        request(method=b"GET", target=b"/_ping").replace(
            b"connection: close", b"connection: keep-alive"
        )
        * 3
        + request(method=b"GET", target=b"/_ping"),
    ),
    (
        "pipelined then garbage",
        request(method=b"GET", target=b"/_ping").replace(
            b"connection: close", b"connection: keep-alive"
        )
        + b"\x00\x01\r\n\r\n",
    ),
    ("http/1.0", b"GET /_ping HTTP/1.0\r\n\r\n"),
    ("conn stats post", request(target=b"/_conn_stats")),
    ("ping post garbage", request(target=b"/_ping", body=b"{")),
    ("slurp", request(target=b"/_slurp", body=b'{"path": "/etc/passwd"}')),
]


def signed(client, method: str, path: str, obj=None, body: bytes | None = None, **sign) -> bytes:
    """A production request as raw bytes: encrypted path and body, fresh signature."""
    import json

    if body is None and obj is not None:
        body = client.seal(json.dumps(obj).encode())
    headers = [(k.encode(), v.encode()) for k, v in client.headers(body, **sign).items()]
    if body:
        headers.append((b"content-type", b"text/plain; charset=utf-8"))
    return request(method.encode(), client.enc_path(path).encode(), headers, body or b"")
