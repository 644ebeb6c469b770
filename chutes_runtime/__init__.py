"""chutes_runtime: the cord server that runs inside chute images.

``python -m chutes_runtime FILE.py:CHUTE [--dev]`` serves a chute's cords
with starlette responses on uvicorn and msgspec codecs. It imports only the
chute definitions, msgspec, starlette and uvicorn (plus cryptography,
substrate-interface and graval in production mode), never the build engine.
"""

from ._app import RuntimeApp
from ._codec import BodyCodec, BodyError
from ._loader import load_target, split_target
from ._server import Runtime
from ._settings import Settings

__all__ = [
    "BodyCodec",
    "BodyError",
    "Runtime",
    "RuntimeApp",
    "Settings",
    "load_target",
    "split_target",
]
