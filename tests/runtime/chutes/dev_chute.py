"""A chute that exercises every runtime behaviour (served by tests/runtime)."""

import os
import tempfile
import threading

import msgspec
from starlette.responses import FileResponse

from chutes_build import Chute

chute = Chute(username="test", name="runtime-dev", image="parachutes/python:3.12", concurrency=3)
GATE = threading.Event()
STARTED = threading.Event()
FILE = os.path.join(tempfile.gettempdir(), "chutes-runtime-test-file.txt")


class EchoIn(msgspec.Struct):
    text: str
    times: int = 1


class EchoOut(msgspec.Struct):
    text: str


class SquareIn(msgspec.Struct):
    n: int


@chute.on_startup(priority=20)
def second(self):
    self.order.append("second")


@chute.on_startup(priority=10)
async def first(self):
    self.order = ["first"]
    with open(FILE, "w") as handle:
        handle.write("file body")


@chute.on_shutdown()
def bye(self):
    self.order.append("shutdown")


@chute.cord(public_api_path="/v1/echo")
async def echo(self, body: EchoIn) -> EchoOut:
    return EchoOut(text=body.text * body.times)


@chute.cord(public_api_path="/v1/square", public_api_method="GET")
def square(self, params: SquareIn) -> dict:
    return {"square": params.n * params.n, "thread": threading.current_thread().name}


@chute.cord(public_api_path="/cube", public_api_method="GET")
def cube(self, params: SquareIn) -> dict:
    return {"cube": params.n**3}


@chute.cord()
def hooks(self) -> dict:
    return {"order": self.order}


@chute.cord(output_content_type="text/plain")
async def shout(self, body: dict) -> str:
    return body["text"].upper()


@chute.cord(output_content_type="image/png")
async def raw(self) -> bytes:
    return b"\x89PNG-bytes"


@chute.cord()
async def file(self):
    return FileResponse(FILE, media_type="text/plain")


@chute.cord()
async def boom(self, body: dict) -> dict:
    raise RuntimeError("secret detail")


@chute.cord(stream=True)
async def tokens(self, body: dict):
    for i in range(body.get("n", 3)):
        yield f"data: {i}\n\n"


@chute.cord(stream=True)
def sync_tokens(self, body: dict):
    for i in range(body.get("n", 3)):
        yield {"i": i}


@chute.cord(stream=True)
async def bad_stream(self, body: dict):
    raise ValueError("no first chunk")
    yield "never"


@chute.cord()
def block(self, body: dict) -> dict:
    STARTED.set()
    GATE.wait(30)
    return {"released": GATE.is_set()}


_UP = int(os.environ.get("RUNTIME_TEST_UPSTREAM_PORT", "8000"))


@chute.cord(passthrough=True, passthrough_port=_UP, passthrough_path="/up/complete")
async def complete(self, body: dict):
    pass


@chute.cord(passthrough=True, passthrough_port=_UP, passthrough_path="/up/stream", stream=True)
async def complete_stream(self, body: dict):
    pass


@chute.cord(passthrough=True, passthrough_port=_UP, passthrough_path="/up/hang", stream=True)
async def hang(self, body: dict):
    pass


@chute.cord()
def secret(self) -> dict:
    return {"secret": os.environ.get("TEST_SECRET")}


@chute.cord(passthrough=True, passthrough_port=_UP, passthrough_path="/up/teapot")
async def teapot(self, body: dict):
    pass
