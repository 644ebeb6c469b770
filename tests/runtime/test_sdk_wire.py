"""The wire, side by side: one SDK chute file served by the SDK 0.6.9 dev server and by ours.

``chutes/wire_chute.py`` has a cord per return type (str, int, float, bool, list, dict,
pydantic model, None, starlette/fastapi Response objects, generators) and per error
case. Each request goes to both servers; the answers must have the same status, content
type and body, except where this runtime deliberately says more (``DIFFERENT``): there
the status class is the SDK's and the body is JSON ``{"detail": ...}``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import free_port, require

from .conftest import CHUTES, Served, serve

NAME = {"name": "bob"}

#: (path, body): answered identically by both servers.
SAME = [
    ("/hello", NAME),  # -> str
    ("/hello_sync", {"name": "bob", "times": 2}),  # sync def -> str
    ("/count", {"name": "bob", "times": 2}),  # -> int
    ("/ratio", NAME),  # -> float
    ("/flag", NAME),  # -> bool
    ("/letters", NAME),  # -> list
    ("/info", NAME),  # -> dict (nested, None, non-ASCII)
    ("/greet", NAME),  # -> pydantic model (field alias)
    ("/nothing", NAME),  # -> None
    ("/raw", NAME),  # fastapi Response with a media type
    ("/created", NAME),  # JSONResponse with its own status and header
    ("/file", NAME),  # FileResponse
    ("/piped", {"name": "bob", "times": 3}),  # StreamingResponse
    ("/events", {"name": "bob", "times": 2}),  # async generator, stream=True
    ("/events_sync", {"name": "bob", "times": 2}),  # sync generator, stream=True
    ("/missing", NAME),  # HTTPException(404, str detail)
    ("/teapot", NAME),  # HTTPException(418, dict detail, headers)
    ("/stream_boom", NAME),  # a stream failing before its first chunk
    ("/plain", {"b": 1, "a": 2}),  # a dict input
    ("/nope", NAME),  # no such path
]

#: (path, body): where this runtime answers with more detail in the SDK's status class.
DIFFERENT = [
    ("/hello", {"name": ""}),  # pydantic validation: SDK 400 "Invalid input parameters"
    ("/hello", {"times": 3}),  # a missing field: we name it (422)
    ("/hello", {"name": "bob", "times": 99}),
    ("/boom", NAME),  # an exception: SDK 500 text/plain, ours the same words as JSON
    ("/boom_sync", NAME),
]

HEADERS = ("content-type", "x-item", "x-reason")


class Sdk:
    """The SDK's dev server on this file (``chutes run wire_chute:chute --dev``)."""

    def __init__(self, python: str) -> None:
        self.port, logging_port = free_port(), free_port()
        chutes = os.path.join(os.path.dirname(python), "chutes")
        env = {**os.environ, "CHUTES_EXECUTION_CONTEXT": "REMOTE"}
        argv = [chutes, "run", "wire_chute:chute", "--dev", "--host", "127.0.0.1",
                "--port", str(self.port), "--logging-port", str(logging_port)]  # fmt: skip
        self.proc = subprocess.Popen(
            argv, cwd=CHUTES, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self) -> bool:
        for _ in range(600):
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.post(self.url + "/_ping", json={}, timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            try:
                self.proc.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
        return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def sdk(sdk_python: str) -> Iterator[Sdk]:
    server = Sdk(sdk_python)
    try:
        started = server.wait()
        if not started:
            server.stop()
        error = b"" if started else server.proc.stderr.read()[-2000:]
        require(started, f"the SDK's dev server did not start: {error.decode(errors='replace')}")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ours() -> Iterator[Served]:
    served = serve("wire_chute.py:chute", dev=True)
    yield served
    served.stop()


def _ask(url: str, path: str, body: dict) -> tuple[int, dict[str, str], bytes]:
    answer = httpx.post(url + path, json=body, timeout=30)
    headers = {name: answer.headers[name] for name in HEADERS if name in answer.headers}
    return answer.status_code, headers, answer.content


@pytest.mark.parametrize(("path", "body"), SAME, ids=[p for p, _ in SAME])
def test_issue_13_answers_equal_the_sdk_servers(
    sdk: Sdk, ours: Served, path: str, body: dict
) -> None:
    assert _ask(ours.url, path, body) == _ask(sdk.url, path, body)


def test_issue_13_str_cord_answers_json(sdk: Sdk, ours: Served) -> None:
    status, headers, content = _ask(ours.url, "/hello", NAME)
    assert (status, headers["content-type"], content) == (200, "application/json", b'"hello bob"')


@pytest.mark.parametrize(("path", "body"), DIFFERENT, ids=[f"{p}-{b}" for p, b in DIFFERENT])
def test_issue_13_errors_keep_the_sdk_status_class_with_a_json_detail(
    sdk: Sdk, ours: Served, path: str, body: dict
) -> None:
    theirs, answer = httpx.post(sdk.url + path, json=body), httpx.post(ours.url + path, json=body)
    assert answer.status_code // 100 == theirs.status_code // 100
    assert answer.headers["content-type"] == "application/json"
    detail = answer.json()["detail"]
    if theirs.headers["content-type"].startswith("application/json"):
        assert set(theirs.json()) == {"detail"}
        assert answer.status_code == 422 and detail.endswith("`")  # "... - at `$.name`"
    else:  # the SDK's plain-text 500
        assert (answer.status_code, detail) == (theirs.status_code, theirs.text)


def test_issue_13_malformed_bodies_are_4xx_where_the_sdk_crashes(sdk: Sdk, ours: Served) -> None:
    """Not JSON, or JSON that is not an object: the SDK's server fails inside its own
    middleware (500); this runtime says what is wrong with the request."""
    for content in (b"{bad", b"[]"):
        kwargs = {"content": content, "headers": {"content-type": "application/json"}}
        assert httpx.post(sdk.url + "/hello", **kwargs).status_code == 500
        answer = httpx.post(ours.url + "/hello", **kwargs)
        assert answer.status_code in (400, 422)
        assert answer.json()["detail"]
