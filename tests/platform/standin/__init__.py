"""A stand-in for the chutes.ai API that follows the real protocol, for tests.

It verifies request signatures the way the platform does, validates uploads and
deploy bodies with the platform's rules, streams build logs and warmup events in
the platform's formats, and records every request. It never unpickles anything.
Run it with :func:`running_standin` (real HTTP on 127.0.0.1, a free port).
"""

from ._app import create_app
from ._server import StandIn, running_standin
from ._state import ImageRow, LogoRow, Recorded, StandInState, User

__all__ = [
    "ImageRow",
    "LogoRow",
    "Recorded",
    "StandIn",
    "StandInState",
    "User",
    "create_app",
    "running_standin",
]
