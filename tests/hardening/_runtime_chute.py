"""The chute the runtime hardening suites serve (issue 7): counters, a raiser, a slow cord.

``CALLS`` counts cord invocations so a test can prove that a refused request
never reached user code; ``hold`` waits for a flag file so a test can keep an
exact number of requests in flight. ``RUNTIME_HARD_CONCURRENCY`` sets the limit.
"""

import asyncio
import collections
import os
import time

import msgspec

from chutes_build import Chute

chute = Chute(
    username="test",
    name="runtime-hard",
    image="parachutes/python:3.12",
    concurrency=int(os.environ.get("RUNTIME_HARD_CONCURRENCY", "4")),
)
CALLS: collections.Counter = collections.Counter()


class Item(msgspec.Struct):
    text: str
    n: int = 1


class SquareIn(msgspec.Struct):
    n: int


@chute.cord()
async def echo(self, body: dict) -> dict:
    CALLS["echo"] += 1
    return body


@chute.cord(public_api_path="/v1/item")
async def item(self, body: Item) -> dict:
    CALLS["item"] += 1
    return {"text": body.text * max(0, min(body.n, 8))}


@chute.cord(public_api_path="/v1/square", public_api_method="GET")
def square(self, params: SquareIn) -> dict:
    CALLS["square"] += 1
    return {"square": params.n * params.n}


@chute.cord()
async def boom(self, body: dict) -> dict:
    """The one cord whose 500s are expected: user code raising."""
    CALLS["boom"] += 1
    raise RuntimeError("user code failed")


@chute.cord(stream=True)
async def tokens(self, body: dict):
    CALLS["tokens"] += 1
    for i in range(3):
        yield f"data: {i}\n\n"


@chute.cord()
async def slow(self, body: dict) -> dict:
    CALLS["slow"] += 1
    await asyncio.sleep(0.2)
    return {"slept": 0.2}


@chute.cord()
async def hold(self, body: dict) -> dict:
    """Stay in flight until the file ``body["flag"]`` exists (at most 60 s)."""
    CALLS["hold"] += 1
    flag, deadline = str(body.get("flag", "")), time.monotonic() + 60
    while flag and not os.path.exists(flag) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return {"released": bool(flag) and os.path.exists(flag)}


@chute.cord()
def calls(self) -> dict:
    return dict(CALLS)
