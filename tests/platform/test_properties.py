"""Property tests: multipart bodies round-trip; log streams parse however they are chunked."""

from __future__ import annotations

import json

import httpx
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from chutes_build.platform import encode_multipart
from chutes_build.platform._sse import LogLine, parse_image_log_lines

from .standin._multipart import parse_multipart

names = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, texts, max_size=6), st.binary(max_size=300))
def test_multipart_round_trip(fields, blob):
    items = [*fields.items(), ("build_context", ("chute.zip", blob, "application/zip"))]
    body, content_type = encode_multipart(items)
    parsed = parse_multipart(body, content_type)
    assert parsed == {**fields, "build_context": ("chute.zip", "application/zip", blob)}


log_lines = st.lists(st.tuples(st.sampled_from(["stdout", "stderr"]), texts), max_size=8)


@settings(max_examples=100, deadline=None)
@given(log_lines, st.lists(st.integers(1, 40), min_size=1, max_size=20), st.integers(0, 3))
def test_log_stream_parses_whatever_the_chunking(lines, cuts, keepalives):
    frames = (
        "".join(
            ".\n" * keepalives
            + "data: "
            + json.dumps({"log": {"log_type": kind, "log": text}, "offset": f"1-{i + 2}"})
            + "\n"
            for i, (kind, text) in enumerate(lines)
        )
        + "DONE\nignored after done\n"
    )
    data = frames.encode()
    chunks, at = [], 0
    for cut in cuts * (len(data) // max(sum(cuts), 1) + 1):
        if at >= len(data):
            break
        chunks.append(data[at : at + cut])
        at += cut
    chunks.append(data[at:])

    async def collect():
        class Chunked(httpx.AsyncByteStream):
            async def __aiter__(self):
                for chunk in chunks:
                    yield chunk

        response = httpx.Response(200, stream=Chunked())
        return [item async for item in parse_image_log_lines(response.aiter_lines())]

    got = trio.run(collect)
    expected = []
    for i, (kind, text) in enumerate(lines):
        expected += [LogLine(kind, text.rstrip("\n")), f"1-{i + 2}"]
    assert got == expected
