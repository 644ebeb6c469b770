"""Which packages beyond the server the runtime layer installs, pinned to this environment.

Two sets are added on demand, each with its dependency closure read from the metadata
installed here (the versions the chute was loaded with), less what the dev set holds:

- production mode's packages (cryptography, substrate-interface) when asked for;
- the SDK's packages (the ``sdk`` extra: fastapi, pydantic, loguru, ...) that a chute's
  code imports. Which ones is read from the source of the chute file and of the local
  modules it imported (the deploy node's ``code``), so an image whose chutes import none
  of them gets none: dev images stay small.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
from collections.abc import Iterable
from typing import Any

from ..core import BuildError

__all__ = ["SDK_MODULES", "canonical", "pin_closure", "sdk_imports", "sdk_missing", "sdk_packages"]

#: Import name -> distribution of each package of the ``sdk`` extra.
SDK_MODULES = {
    "aiofiles": "aiofiles", "aiohttp": "aiohttp", "backoff": "backoff", "fastapi": "fastapi",
    "huggingface_hub": "huggingface_hub", "jwt": "pyjwt", "loguru": "loguru",
    "orjson": "orjson", "prometheus_client": "prometheus-client", "psutil": "psutil",
    "pybase64": "pybase64", "pydantic": "pydantic", "requests": "requests", "semver": "semver",
}  # fmt: skip
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([^\n#;]+))", re.M)
_scanned: dict[tuple[str, float, int], frozenset[str]] = {}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(text: str):
    from packaging.requirements import Requirement

    return Requirement(text)


def _marker_env(version: str, machine: str) -> dict[str, str]:
    return {"python_version": version, "python_full_version": f"{version}.0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": machine, "extra": ""}  # fmt: skip


def pin_closure(
    roots: Iterable[str], version: str, machine: str, exclude: Iterable[str], missing
) -> list[str]:
    """``name==version`` of ``roots`` and their dependencies for that Python, from the
    metadata installed here, less ``exclude``; ``missing(name)`` is raised for a root
    that is not installed (a dependency that is not is pinned by name only)."""
    env, seen = _marker_env(version, machine), {canonical(n) for n in exclude}
    roots = list(roots)
    pins, todo = [], list(roots)
    while todo:
        name = todo.pop()
        if canonical(name) in seen:
            continue
        seen.add(canonical(name))
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if name in roots:
                raise missing(name) from None
            pins.append(canonical(name))
            continue
        pins.append(f"{canonical(name)}=={dist.version}")
        for text in dist.requires or ():
            req = _requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    return sorted(pins)


def _imported(single: bytes, several: bytes) -> list[str]:
    """Top-level names of one ``from X ...`` (``single``) or ``import a.b, c as d``."""
    parts = [single] if single else several.split(b",")
    return [p.split()[0].split(b".")[0].decode() for p in parts if p.strip()]


def _scan(path: str) -> frozenset[str]:
    """The top-level module names ``path`` imports (a textual scan: cheap, and a name in
    a string at most adds a package)."""
    try:
        stat = os.stat(path)
        key = (path, stat.st_mtime, stat.st_size)
        if key not in _scanned:
            with open(path, "rb") as handle:
                text = handle.read()
            _scanned[key] = frozenset(
                name for found in _IMPORT.findall(text) for name in _imported(*found)
            )
        return _scanned[key]
    except (OSError, IndexError, UnicodeDecodeError):
        return frozenset()


def sdk_imports(paths: Iterable[str]) -> list[str]:
    """The distributions of :data:`SDK_MODULES` that these files import, sorted."""
    found = set()
    for path in paths:
        found.update(SDK_MODULES[n] for n in _scan(path) if n in SDK_MODULES)
    return sorted(found)


def sdk_packages(graph: Any, image_key: str) -> tuple[str, ...]:
    """What the runtime layer of ``image_key`` needs from the ``sdk`` extra: the packages
    imported by the code of every chute in ``graph`` that runs on that image."""
    paths = {
        os.path.join(graph.root, rel)
        for attrs in graph.nodes("deploy")
        if attrs.image == image_key
        for rel in attrs.code
    }
    return tuple(sdk_imports(sorted(paths)))


def sdk_missing(name: str) -> BuildError:
    return BuildError(
        f"the chute's code imports {name}, which the runtime layer copies from the "
        "environment chutes-build runs in, and it is not installed here",
        fix="pip install 'chutes-build[sdk]'",
    )
