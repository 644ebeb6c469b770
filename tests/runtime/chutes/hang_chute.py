"""Cords that hang, block the event loop, run too long or return what JSON cannot hold."""

import asyncio
import threading
import time

from chutes_build import Chute

chute = Chute(username="test", name="runtime-hang", image="parachutes/python:3.12", concurrency=2)
CANCELLED: list[str] = []
RELEASE = threading.Event()


@chute.cord()
async def hang(self) -> dict:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        CANCELLED.append("hang")
        raise
    return {}


@chute.cord()
def hang_sync(self) -> dict:
    RELEASE.wait(120)
    return {"released": True}


@chute.cord(stream=True)
async def hang_stream(self):
    try:
        await asyncio.Event().wait()  # never yields a first chunk
    except asyncio.CancelledError:
        CANCELLED.append("hang_stream")
        raise
    yield "never"


@chute.cord()
async def quick(self) -> str:
    return "ok"


@chute.cord()
async def nap(self) -> str:
    await asyncio.sleep(60)
    return "rested"


@chute.cord()
async def blocker(self, body: dict) -> str:
    time.sleep(body["seconds"])  # blocks the event loop: the watchdog reports this line
    return "done"


@chute.cord()
async def odd(self) -> dict:
    return {"value": object()}
