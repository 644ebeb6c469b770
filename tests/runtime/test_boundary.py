"""What the runtime may import, and its public face."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import chutes_runtime

from .conftest import CHUTES

FORBIDDEN = (
    "trio",
    "networkx",
    "httpx",
    "typer",
    "rich",
    "xxhash",
    "chutes_build.graph",
    "chutes_build.cache",
    "chutes_build.engine",
    "chutes_build.cli",
)
PRODUCTION_ONLY = ("cryptography", "substrateinterface", "graval", "pydantic")
SDK_ONLY = ("fastapi", "pydantic", "loguru", "aiohttp", "orjson", "requests")

_PROBE = """
import json, sys
from chutes_runtime import RuntimeApp, Settings, load_target
module, chute = load_target(sys.argv[1])
app = RuntimeApp(chute, module, Settings(target=sys.argv[1], dev=True))
if sys.argv[2] == "production":
    import chutes_runtime._production
print(json.dumps(sorted(sys.modules)))
"""


def _modules(mode: str) -> list[str]:
    target = os.path.join(CHUTES, "dev_chute.py") + ":chute"
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, target, mode], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_dev_mode_imports_no_engine_or_production_dependencies() -> None:
    modules = _modules("dev")
    assert "chutes_runtime._app" in modules
    assert _loaded(modules, FORBIDDEN) == []
    assert _loaded(modules, PRODUCTION_ONLY) == []
    assert _loaded(modules, SDK_ONLY) == []  # the chute imports none of them: neither do we


def test_production_mode_adds_only_its_crypto() -> None:
    modules = _modules("production")
    assert "cryptography" in modules
    assert _loaded(modules, FORBIDDEN) == []
    assert (
        _loaded(modules, ("graval", "substrateinterface", "pydantic")) == []
    )  # imported when used


def test_public_names_sorted_and_complete() -> None:
    assert chutes_runtime.__all__ == sorted(chutes_runtime.__all__)
    public = {n for n in vars(chutes_runtime) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(chutes_runtime, n)).__name__ == "module"}
    assert set(chutes_runtime.__all__) == public - modules
