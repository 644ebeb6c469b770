"""A streaming cord: an async generator whose items the runtime sends as server-sent events."""

import asyncio
from typing import Annotated

import msgspec
from common.images import USERNAME, base_image

from chutes_build import Chute

image = base_image("ticker", readme="Streaming ticks").run_command(
    "echo 'ticker' > /app/data/banner.txt"
)

chute = Chute(
    username=USERNAME, name="ticker", image=image, concurrency=4, readme="Streaming ticks"
)


class TickRequest(msgspec.Struct, kw_only=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    prefix: str = "tick"
    delay_ms: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0


class Tick(msgspec.Struct, kw_only=True):
    index: int
    label: str
    last: bool


@chute.cord(stream=True, public_api_path="/ticks")
async def ticks(self, request: TickRequest):
    """Yield ``count`` ticks, optionally ``delay_ms`` apart."""
    for index in range(request.count):
        if request.delay_ms:
            await asyncio.sleep(request.delay_ms / 1000)
        yield Tick(index=index, label=f"{request.prefix}-{index}", last=index == request.count - 1)
