"""HTTP/1.1 on raw sockets, against both implementations (the runtime's h1, uvicorn's h11)."""

from __future__ import annotations

import socket

from .conftest import Served

ECHO = b'{"text":"ab"}'


def _connect(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])), timeout=10)
    return sock


class Reader:
    """Reads HTTP/1.1 responses (content-length or chunked) from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer = sock, b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buffer += data

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def response(self) -> tuple[int, dict[bytes, bytes], bytes]:
        lines = self._until(b"\r\n\r\n").split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])
        }
        if headers.get(b"transfer-encoding") == b"chunked":
            body = b""
            while size := int(self._until(b"\r\n"), 16):
                body += self._take(size)
                self._take(2)
            self._take(2)
            return status, headers, body
        return status, headers, self._take(int(headers.get(b"content-length", b"0")))

    def closed(self) -> bool:
        """True once the server closes (any bytes still coming are skipped)."""
        try:
            while True:
                self._fill()
        except EOFError:
            return True
        except TimeoutError:
            return False


def _post(path: bytes, body: bytes, extra: bytes = b"") -> bytes:
    head = b"POST %b HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" % path
    return head + b"Content-Length: %d\r\n%b\r\n" % (len(body), extra) + body


def test_keep_alive_and_pipelining(dev: Served) -> None:
    with _connect(dev) as sock:
        reader = Reader(sock)
        sock.sendall(_post(b"/echo", ECHO))
        assert reader.response()[::2] == (200, b'{"text":"ab"}')
        sock.sendall(_post(b"/echo", b'{"text":"c"}') + _post(b"/echo", b'{"text":"d"}'))
        assert reader.response()[2] == b'{"text":"c"}'
        assert reader.response()[2] == b'{"text":"d"}'


def test_chunked_request_body(dev: Served) -> None:
    with _connect(dev) as sock:
        head = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        sock.sendall(head + b"5\r\n" + ECHO[:5] + b"\r\n")
        sock.sendall(b"%x\r\n%b\r\n0\r\n\r\n" % (len(ECHO) - 5, ECHO[5:]))
        assert Reader(sock).response()[::2] == (200, b'{"text":"ab"}')


def test_expect_100_continue(dev: Served) -> None:
    with _connect(dev) as sock:
        reader = Reader(sock)
        head = _post(b"/echo", b"", b"Expect: 100-continue\r\n").replace(
            b"Length: 0", b"Length: %d" % len(ECHO)
        )
        sock.sendall(head)
        assert reader._until(b"\r\n\r\n").startswith(b"HTTP/1.1 100")
        sock.sendall(ECHO)
        assert reader.response()[::2] == (200, b'{"text":"ab"}')


def test_streams_use_chunked_responses(dev: Served) -> None:
    with _connect(dev) as sock:
        sock.sendall(_post(b"/tokens", b'{"n": 2}'))
        status, headers, body = Reader(sock).response()
    assert (status, headers[b"transfer-encoding"], body) == (
        200,
        b"chunked",
        b"data: 0\n\ndata: 1\n\n",
    )


def test_malformed_request_is_400_and_closed(dev: Served) -> None:
    with _connect(dev) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        reader = Reader(sock)
        assert reader.response()[0] == 400
        assert reader.closed()


def test_http10_closes_after_the_response(dev: Served) -> None:
    with _connect(dev) as sock:
        sock.sendall(b"POST /echo HTTP/1.0\r\nContent-Length: %d\r\n\r\n%b" % (len(ECHO), ECHO))
        reader = Reader(sock)
        assert reader.response()[::2] == (200, b'{"text":"ab"}')
        assert reader.closed()


def test_early_413_closes_the_connection(dev: Served) -> None:
    with _connect(dev) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
        reader = Reader(sock)
        assert reader.response()[0] == 413
        if dev.runtime.settings.http == "h1":  # uvicorn's h11 would wait to drain the 100 MB
            assert reader.closed()


def test_requests_split_at_every_byte(dev: Served) -> None:
    chunked = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"3;ext=1\r\n" + ECHO[:3] + b"\r\n"
    chunked += b"%x\r\n%b\r\n0\r\n\r\n" % (len(ECHO) - 3, ECHO[3:])
    with _connect(dev) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = Reader(sock)
        for request in (_post(b"/echo", ECHO), chunked):
            for i in range(len(request)):
                sock.send(request[i : i + 1])
            assert reader.response()[::2] == (200, b'{"text":"ab"}')
