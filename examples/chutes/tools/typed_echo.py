"""Typed JSON cords: msgspec Structs in, msgspec Structs out (validated by the runtime)."""

from typing import Annotated

import msgspec
from common.images import USERNAME, base_image

from chutes_build import Chute

image = base_image("typed-echo", readme="Typed echo").run_command(
    "echo 'typed echo' > /app/data/banner.txt"
)

chute = Chute(username=USERNAME, name="typed-echo", image=image, concurrency=8, readme="Typed echo")


class EchoRequest(msgspec.Struct, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    repeat: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1


class EchoResponse(msgspec.Struct, kw_only=True):
    text: str
    length: int


class Stats(msgspec.Struct, kw_only=True):
    words: int
    characters: int
    upper: str


@chute.cord(public_api_path="/echo")
async def echo(self, request: EchoRequest) -> EchoResponse:
    """Repeat the text ``repeat`` times."""
    text = " ".join([request.text] * request.repeat)
    return EchoResponse(text=text, length=len(text))


@chute.cord(public_api_path="/stats")
def stats(self, request: EchoRequest) -> Stats:
    """A synchronous cord: word and character counts."""
    return Stats(
        words=len(request.text.split()), characters=len(request.text), upper=request.text.upper()
    )
