"""Passthrough cords to a small local server that a startup hook starts.

This is the shape of the vLLM/SGLang templates (an engine process behind
passthrough cords) with a ten-line stdlib ``http.server`` as the engine.
"""

import asyncio
import socket
import subprocess
import sys

import msgspec
from common.images import USERNAME, base_image

from chutes_build import Chute

#: Where the upstream listens (127.0.0.1 only) and the passthrough cords forward to.
UPSTREAM_PORT = 18931

#: The upstream server: POST /v1/upper -> {"text": TEXT.upper()}, GET /health -> {"status": "ok"}.
UPSTREAM_SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            return self._send(200, {"status": "ok"})
        self._send(404, {"detail": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path == "/v1/upper":
            return self._send(200, {"text": str(body.get("text", "")).upper()})
        self._send(404, {"detail": "not found"})

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

image = base_image("upstream-proxy", readme="Passthrough to a local server").run_command(
    "echo 'upstream proxy' > /app/data/banner.txt"
)

chute = Chute(username=USERNAME, name="upstream-proxy", image=image, concurrency=8)


class UpperRequest(msgspec.Struct, kw_only=True):
    text: str


class UpperResponse(msgspec.Struct, kw_only=True):
    text: str


def start_upstream(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", UPSTREAM_SERVER, str(port)])


async def wait_listening(process: subprocess.Popen, port: int, attempts: int = 200) -> None:
    for _ in range(attempts):
        if process.poll() is not None:
            raise RuntimeError(f"the upstream server exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the upstream server did not listen on port {port}")


@chute.on_startup(priority=10)
async def launch_upstream(self):
    self.upstream = start_upstream(UPSTREAM_PORT)
    await wait_listening(self.upstream, UPSTREAM_PORT)


@chute.on_shutdown()
async def stop_upstream(self):
    process = getattr(self, "upstream", None)
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


@chute.cord(
    passthrough=True,
    passthrough_path="/v1/upper",
    passthrough_port=UPSTREAM_PORT,
    public_api_path="/upper",
    input_schema=UpperRequest,
)
async def upper(data) -> UpperResponse:
    return data


@chute.cord(
    passthrough=True,
    passthrough_path="/health",
    passthrough_port=UPSTREAM_PORT,
    method="GET",
    public_api_path="/health",
    public_api_method="GET",
)
async def health(data):
    return data
