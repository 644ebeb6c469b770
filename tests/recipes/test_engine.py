"""The engine launcher of the LLM templates, against a fake OpenAI-compatible server.

The fake is a stdlib ``http.server`` that checks the bearer key like vLLM
does (or, for the negative case, accepts anything). It runs on 127.0.0.1
on a free port; the launcher runs under asyncio as in the chute runtime.
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from chutes_build import Chute
from chutes_recipes._engine import launch
from tests.conftest import free_port

FAKE_ENGINE = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, KEY, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Handler(BaseHTTPRequestHandler):
    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        return MODE == "open" or self.headers.get("Authorization") == f"Bearer {KEY}"

    def do_GET(self):
        self._reply(200 if self._authorized() else 401, {"data": []})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._reply(200 if self._authorized() else 401, {"choices": [{"text": "hi"}]})

    def log_message(self, *args):
        pass

if MODE == "crash":
    sys.exit(3)
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
"""


def _chute() -> Chute:
    return Chute(username="demo", name="org/model", image="chutes/vllm:nightly-2025111700")


async def _launch(chute: Chute, mode: str):
    port = free_port()
    argv = [sys.executable, "-c", FAKE_ENGINE, str(port), "KEY-123", mode]
    return await launch(
        chute, "fake", argv, "KEY-123", {}, "org/model", port=port, poll_interval=0.05
    )


def test_launch_waits_checks_auth_and_forwards_the_key() -> None:
    chute = _chute()

    async def scenario():
        engine = await _launch(chute, "secure")
        try:
            assert engine.process.poll() is None
            assert engine.monitor is not None and not engine.monitor.done()
        finally:
            engine.monitor.cancel()
            engine.process.terminate()
            engine.process.wait()

    asyncio.run(scenario())
    assert chute.passthrough_headers == {"Authorization": "Bearer KEY-123"}


def test_an_engine_without_auth_is_refused_and_killed() -> None:
    chute = _chute()
    with pytest.raises(
        RuntimeError, match=r"^fake answered without its API key; refusing to serve$"
    ):
        asyncio.run(_launch(chute, "open"))
    assert "Authorization" not in chute.passthrough_headers


def test_an_engine_that_exits_early_is_reported() -> None:
    with pytest.raises(RuntimeError, match=r"^fake exited before it was ready \(exit=3\)$"):
        asyncio.run(_launch(_chute(), "crash"))
