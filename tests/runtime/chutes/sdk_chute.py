"""A chute written for the chutes SDK (pydantic input), served unmodified by both servers."""

from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from pydantic import BaseModel, Field

image = Image(username="test", name="sdk-echo", tag="0.1").from_base("parachutes/python:3.12")
chute = Chute(
    username="test",
    name="sdk-echo",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
    concurrency=64,
)


class EchoIn(BaseModel):
    text: str
    times: int = Field(1, ge=1)


@chute.on_startup()
async def init(self):
    self.prefix = ">"


@chute.cord(public_api_path="/echo", public_api_method="POST")
async def echo(self, data: EchoIn) -> dict:
    return {"text": self.prefix + data.text * data.times}
