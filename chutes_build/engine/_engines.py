"""Naming the engines of a pool, and a docker client aimed at one of them.

See :mod:`._pool` for the forms ``builders`` takes; this module turns them (and the
registry setting) into :class:`EngineClient` objects, from the flags, then the
environment, then the workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ..core import BuildError
from ._docker import BUILDX, DockerClient
from ._registry import Registry, parse_registry

__all__ = ["EngineClient", "EngineSpec", "client_for", "parse_builders", "pool_settings"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BUILDERS_FIX = (
    "name each engine as unix://PATH, tcp://HOST:PORT, ssh://USER@HOST, buildx:BUILDER, "
    "local or a docker context name, optionally as NAME=SPEC"
)


@dataclass(frozen=True, slots=True)
class EngineClient(DockerClient):
    """A docker client aimed at one engine: ``DOCKER_HOST`` or a docker context.

    With buildx and a registry, builds also export and import BuildKit's registry
    cache (``cache_to`` and ``cache_from`` references)."""

    host: str | None = None
    context: str | None = None
    cache_to: str | None = None
    cache_from: tuple[str, ...] = ()

    def build_argv(self) -> list[str]:
        argv = DockerClient.build_argv(self)
        if self.mode == BUILDX and self.cache_to:
            argv += [f"--cache-to=type=registry,ref={self.cache_to},mode=max"]
            argv += [f"--cache-from=type=registry,ref={ref}" for ref in self.cache_from]
        return argv

    def env(self) -> dict[str, str]:
        env = DockerClient.env(self)
        if self.host is not None:
            env.pop("DOCKER_CONTEXT", None)
            env["DOCKER_HOST"] = self.host
        if self.context is not None:
            env.pop("DOCKER_HOST", None)
            env["DOCKER_CONTEXT"] = self.context
        return env


@dataclass(frozen=True, slots=True)
class EngineSpec:
    name: str
    kind: str  # host, context, buildx, local
    target: str


def parse_builders(specs: list[str], source: str) -> list[EngineSpec]:
    """The engines named by ``specs``; ``source`` names where they were set."""
    found: list[EngineSpec] = []
    for raw in specs:
        text = raw.strip()
        name, sep, spec = text.partition("=")
        if not sep:
            name, spec = text, text
        if re.match(r"^(unix|tcp|ssh)://.+", spec):
            item = EngineSpec(name, "host", spec)
        elif spec.startswith("buildx:") and _NAME.match(spec[7:]):
            item = EngineSpec(name, "buildx", spec[7:])
        elif spec == "local":
            item = EngineSpec(name, "local", spec)
        elif _NAME.match(spec):
            item = EngineSpec(name, "context", spec)
        else:
            raise BuildError(f"invalid builder {raw!r} in {source}", fix=_BUILDERS_FIX)
        if any(other.name == item.name for other in found):
            raise BuildError(f"builder {item.name!r} is named twice in {source}",
                             fix="give each engine its own NAME=SPEC")  # fmt: skip
        found.append(item)
    return found


def _split_list(value: str) -> list[str]:
    return [part for part in (p.strip() for p in value.split(",")) if part]


def pool_settings(
    registry: str | None, builders: str | None, env: dict[str, str], config: Any
) -> tuple[Registry | None, list[EngineSpec]]:
    """The registry and engines from the flags, then the environment, then the workspace."""
    reg_value, reg_source = registry, "--registry"
    if reg_value is None and env.get("CHUTES_BUILD_REGISTRY"):
        reg_value, reg_source = env["CHUTES_BUILD_REGISTRY"], "$CHUTES_BUILD_REGISTRY"
    if reg_value is None and getattr(config, "registry", None):
        reg_value, reg_source = config.registry, "[tool.chutes-build] registry"
    specs, source = [], "--builders"
    if builders is not None:
        specs = _split_list(builders)
    elif env.get("CHUTES_BUILD_BUILDERS"):
        specs, source = _split_list(env["CHUTES_BUILD_BUILDERS"]), "$CHUTES_BUILD_BUILDERS"
    elif getattr(config, "builders", None):
        specs, source = list(config.builders), "[tool.chutes-build] builders"
    if reg_value is None:
        if specs:
            raise BuildError(f"builders are set ({source}) but no registry is",
                             fix="engines share layers through a registry: set registry = "
                             "\"HOST:PORT/PREFIX\" in [tool.chutes-build], $CHUTES_BUILD_REGISTRY "
                             "or --registry")  # fmt: skip
        return None, []
    found = parse_registry(reg_value, reg_source)
    auth = env.get("CHUTES_BUILD_REGISTRY_AUTH")
    if auth:
        user, _, password = auth.partition(":")
        found = replace(found, auth=(user, password))
    return found, parse_builders(specs or ["local"], source)


def _cache_tag(name: str) -> str:
    """An engine's name as a tag (``buildx:k8s`` -> ``buildx-k8s``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:100] or "engine"


def client_for(local: DockerClient, spec: EngineSpec, registry: Registry, names: list[str]):
    """The client of ``spec``'s engine (``names``: every engine's, for the buildx cache)."""
    cache = {"cache_to": registry.cache(_cache_tag(spec.name)),
             "cache_from": tuple(registry.cache(_cache_tag(n)) for n in names)}  # fmt: skip
    if spec.kind == "buildx":
        if local.mode != BUILDX:
            raise BuildError(
                f"builder {spec.name!r} is a buildx builder, but the docker client "
                f"{local.path} has no buildx plugin",
                fix="install the buildx plugin, or name the engine by DOCKER_HOST URL or "
                "docker context",
            )
        return EngineClient(local.path, BUILDX, spec.target, **cache)
    host = spec.target if spec.kind == "host" else None
    context = spec.target if spec.kind == "context" else None
    return EngineClient(local.path, local.mode, local.builder, host=host, context=context, **cache)
