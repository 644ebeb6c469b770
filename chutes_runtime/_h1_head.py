"""Parsing an HTTP/1.1 request head and chunk-size lines, strictly (for ``_h1``).

Anything two parsers could read differently is refused with :class:`BadRequest`
(issue 7): a non-token method, a version other than HTTP/1.0 or HTTP/1.1, a
Content-Length that is not 1-18 digits or appears twice with different
values, a Transfer-Encoding other than ``chunked``, both framing headers
together, and a chunk size that is not 1-16 hex digits.
"""

from __future__ import annotations

import re

__all__ = ["MAX_CHUNK_LINE", "MAX_HEAD", "BadRequest", "chunk_size", "framing", "parse_head"]

MAX_HEAD = 64 * 1024
MAX_CHUNK_LINE = 4096
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DIGITS = re.compile(rb"[0-9]{1,18}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


class BadRequest(Exception):
    """The request cannot be read: answer 400 and close."""


def parse_head(head: bytes) -> tuple[str, str, bytes, str, list[tuple[bytes, bytes]]]:
    lines = head.split(b"\r\n")
    try:
        method, target, version = lines[0].split(b" ")
    except ValueError:
        raise BadRequest from None
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or not _TOKEN.fullmatch(method):
        raise BadRequest  # issue 7: a non-ASCII method or version used to kill the connection
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name[-1:] in (b" ", b"\t"):
            raise BadRequest
        headers.append((name.lower(), value.strip()))
    path, _, query = target.partition(b"?")
    raw = path.decode("latin-1")
    if "%" in raw:
        from urllib.parse import unquote

        raw = unquote(raw)
    return method.decode("ascii"), raw, query, version[5:].decode("ascii"), headers


def framing(headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    """``(content length, chunked)``; 400 for anything a proxy could read differently (issue 7).

    Refused: a Content-Length that is not 1-18 digits, two that differ, a
    Transfer-Encoding other than ``chunked``, and both headers together.
    """
    length: int | None = None
    chunked = False
    for name, value in headers:
        if name == b"content-length":
            if not _DIGITS.fullmatch(value) or length not in (None, int(value)):
                raise BadRequest
            length = int(value)
        elif name == b"transfer-encoding":
            if value.lower() != b"chunked" or chunked:
                raise BadRequest
            chunked = True
    if chunked and length is not None:
        raise BadRequest
    return length or 0, chunked


def chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].rstrip(b" \t")
    if not _HEX.fullmatch(size):
        raise BadRequest  # issue 7: int() also took "-5", "+8" and "0_8"
    return int(size, 16)
