"""An SDK chute with one cord per return type and error case, served by both servers.

tests/runtime/test_sdk_wire.py serves this file unmodified with the SDK's dev server
and with chutes_runtime and compares the answers.
"""

import os
import tempfile

from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from fastapi import HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

image = Image(username="test", name="wire", tag="0.1").from_base("parachutes/python:3.12")
chute = Chute(
    username="test",
    name="wire",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
    concurrency=8,
)
FILE = os.path.join(tempfile.gettempdir(), "chutes-wire-file.txt")


class Name(BaseModel):
    name: str = Field(..., min_length=1)
    times: int = Field(1, ge=1, le=10)


class Greeting(BaseModel):
    text: str
    shout: bool = Field(False, alias="isShouting")
    tags: list[str] = []
    score: float | None = None


@chute.on_startup()
async def write_file(self):
    fd, path = tempfile.mkstemp(dir=os.path.dirname(FILE))  # both servers write it
    with os.fdopen(fd, "w") as handle:
        handle.write("file body\n")
    os.replace(path, FILE)


@chute.cord(public_api_path="/hello")
async def hello(self, data: Name) -> str:
    return f"hello {data.name}"


@chute.cord(public_api_path="/hello_sync")
def hello_sync(self, data: Name) -> str:
    return f"hello {data.name}" * data.times


@chute.cord(public_api_path="/count")
async def count(self, data: Name) -> int:
    return len(data.name) * data.times


@chute.cord(public_api_path="/ratio")
async def ratio(self, data: Name) -> float:
    return len(data.name) / 4


@chute.cord(public_api_path="/flag")
async def flag(self, data: Name) -> bool:
    return data.name.startswith("b")


@chute.cord(public_api_path="/letters")
async def letters(self, data: Name) -> list:
    return list(data.name)


@chute.cord(public_api_path="/info")
async def info(self, data: Name) -> dict:
    return {"name": data.name, "nested": {"times": data.times, "none": None}, "ünï": "çødé"}


@chute.cord(public_api_path="/greet")
async def greet(self, data: Name) -> Greeting:
    return Greeting(text=f"hi {data.name}", isShouting=True, tags=["a", "b"])


@chute.cord(public_api_path="/nothing")
async def nothing(self, data: Name) -> None:
    return None


@chute.cord(public_api_path="/raw")
async def raw(self, data: Name) -> Response:
    return Response(content=b"\x89PNG-" + data.name.encode(), media_type="image/png")


@chute.cord(public_api_path="/created")
async def created(self, data: Name) -> JSONResponse:
    return JSONResponse({"created": data.name}, status_code=201, headers={"x-item": data.name})


@chute.cord(public_api_path="/file")
async def file(self, data: Name) -> FileResponse:
    return FileResponse(FILE, media_type="text/plain")


@chute.cord(public_api_path="/piped")
async def piped(self, data: Name) -> StreamingResponse:
    async def parts():
        for i in range(data.times):
            yield f"part {i}\n"

    return StreamingResponse(parts(), media_type="text/plain")


@chute.cord(public_api_path="/events", stream=True)
async def events(self, data: Name):
    for i in range(data.times):
        yield f'data: {{"n": {i}, "name": "{data.name}"}}\n\n'


@chute.cord(public_api_path="/events_sync", stream=True)
def events_sync(self, data: Name):
    for i in range(data.times):
        yield f"line {i}\n"


@chute.cord(public_api_path="/missing")
async def missing(self, data: Name) -> dict:
    raise HTTPException(status_code=404, detail=f"no item named {data.name}")


@chute.cord(public_api_path="/teapot")
async def teapot(self, data: Name) -> dict:
    raise HTTPException(status_code=418, detail={"why": "teapot"}, headers={"x-reason": "tea"})


@chute.cord(public_api_path="/boom")
async def boom(self, data: Name) -> dict:
    raise ValueError("the cord failed")


@chute.cord(public_api_path="/boom_sync")
def boom_sync(self, data: Name) -> dict:
    raise RuntimeError("the sync cord failed")


@chute.cord(public_api_path="/stream_boom", stream=True)
async def stream_boom(self, data: Name):
    raise ValueError("failed before the first chunk")
    yield "never"


@chute.cord(public_api_path="/plain")
async def plain(self, data: dict) -> dict:
    return {"keys": sorted(data)}
