"""A strict multipart/form-data parser (the stand-in does not depend on python-multipart)."""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException

_DISPOSITION = re.compile(r'form-data;\s*name="([^"]*)"(?:;\s*filename="([^"]*)")?')


def parse_multipart(body: bytes, content_type: str) -> dict[str, object]:
    """Return ``{name: str}`` for text fields and ``{name: (filename, ctype, bytes)}`` for files."""
    match = re.search(r"boundary=([^;]+)", content_type or "")
    if not content_type.startswith("multipart/form-data") or not match:
        raise HTTPException(400, "Expected multipart/form-data with a boundary")
    delimiter = b"--" + match.group(1).strip('"').encode()
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise HTTPException(400, "Malformed multipart body")
    fields: dict[str, object] = {}
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise HTTPException(400, "Malformed multipart part")
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise HTTPException(400, "Malformed multipart part headers")
        headers = {}
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        found = _DISPOSITION.search(headers.get("content-disposition", ""))
        if not found:
            raise HTTPException(400, "Multipart part without a name")
        name, filename = found.group(1), found.group(2)
        if filename is not None:
            fields[name] = (filename, headers.get("content-type", ""), data)
        else:
            fields[name] = data.decode()
    return fields
