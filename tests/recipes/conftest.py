"""Fixtures of the recipe tests: running the reference SDK in a subprocess.

The SDK (``chutes==0.6.9``) comes from the suite's ``sdk_python`` fixture
(tests/conftest.py, made by scripts/sdk-venv), the newest release from
``sdk_next_python`` (``_sdk_next``). The SDK is never imported into the test
process.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from tests.conftest import require

from ._dump import CHUTE_FIELDS
from ._sdk_next import SDK_NEXT_VERSION, ensure_sdk_next

#: SDK outputs by (interpreter, code, cwd): the SDK is deterministic, so each script runs once.
_RESULTS: dict[tuple, str] = {}

#: Python run in the SDK: dumps a template result's chute and cords as JSON.
DUMP_HELPERS = (
    f"CHUTE_FIELDS = {CHUTE_FIELDS!r}\n"
    + """
import inspect, json, sys

def cord_json(cord):
    return {
        "function": cord._func.__name__,
        "path": cord.path,
        "passthrough_path": cord.passthrough_path,
        "passthrough_port": cord._passthrough_port,
        "public_api_path": cord.public_api_path,
        "public_api_method": cord._public_api_method,
        "method": cord._method,
        "stream": cord._stream,
        "passthrough": cord._passthrough,
        "sglang_passthrough": cord._sglang_passthrough,
        "output_content_type": cord.output_content_type,
        "input_schema": cord.input_schema,
        "minimal_input_schema": cord.minimal_input_schema,
        "output_schema": cord.output_schema,
    }

def pack_json(pack):
    chute = pack.chute
    image = chute.image
    return {
        "pack_fields": sorted(type(pack).model_fields),
        **{name: getattr(chute, name) for name in CHUTE_FIELDS},
        "username": chute._username,
        "image": image if isinstance(image, str) else str(image),
        "startup_hooks": len(chute._startup_hooks),
        "cords": [cord_json(c) for c in chute.cords],
    }
"""
)


def _runner(python: str):
    def run(code: str, cwd: str | None = None) -> object:
        key = (python, code, cwd)
        if key not in _RESULTS:
            _RESULTS[key] = _run(code, cwd)
        return json.loads(_RESULTS[key])

    def _run(code: str, cwd: str | None) -> str:
        script = DUMP_HELPERS + textwrap.dedent(code)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_")}
        done = subprocess.run(
            [python, "-c", script],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, f"SDK script failed:\n{done.stderr[-4000:]}"
        return done.stdout.strip().splitlines()[-1]

    return run


@pytest.fixture
def run_sdk(sdk_python: str):
    """``run_sdk(code)``: run ``code`` (which prints one JSON document) in the SDK's python."""
    return _runner(sdk_python)


@pytest.fixture(scope="session")
def sdk_next_python() -> str:
    """Python of a venv with the newest SDK release (see ``_sdk_next``)."""
    python, why = ensure_sdk_next()
    require(python is not None, f"no chutes=={SDK_NEXT_VERSION} venv: {why}")
    return python


@pytest.fixture
def run_sdk_next(sdk_next_python: str):
    """``run_sdk`` for the newest SDK release."""
    return _runner(sdk_next_python)
