"""Startup and shutdown hooks with priorities (lower runs first, whatever the file order)."""

import time

import msgspec
from common.images import USERNAME, base_image

from chutes_build import Chute

image = base_image("lifecycle", readme="Hooks in priority order").run_command(
    "echo 'lifecycle' > /app/data/banner.txt"
)

chute = Chute(username=USERNAME, name="lifecycle", image=image, concurrency=2)


class Status(msgspec.Struct, kw_only=True):
    events: list[str]
    settings: dict[str, str]
    uptime_s: float


@chute.on_startup(priority=90)
def announce(self):
    """Runs last: everything before it has finished."""
    self.events.append("ready")


@chute.on_startup(priority=10)
def load_settings(self):
    """Runs first."""
    self.events = ["settings"]
    self.settings = {"greeting": "hello", "mode": "demo"}
    self.started = time.monotonic()


@chute.on_startup()
async def warm_cache(self):
    """Default priority (50): between the two above."""
    self.cache = {key: value.upper() for key, value in self.settings.items()}
    self.events.append("cache")


@chute.on_shutdown(priority=10)
def flush(self):
    self.events.append("flushed")


@chute.cord(method="GET", public_api_path="/status", public_api_method="GET")
async def status(self) -> Status:
    """The hooks that ran, in order."""
    return Status(
        events=list(self.events),
        settings=dict(self.settings),
        uptime_s=time.monotonic() - self.started,
    )
