"""A chute whose start-up hook blocks the event loop, as loading a model often does."""

import time

from chutes_build import Chute

chute = Chute(username="test", name="runtime-slow-start", image="parachutes/python:3.12")


@chute.on_startup()
async def load(self):
    time.sleep(0.6)  # before serving: nothing waits on the loop yet


@chute.cord()
async def ready(self) -> str:
    return "ready"
