"""Which unix socket a docker client's engine listens on, found as the CLI finds it.

``$DOCKER_HOST`` (``unix://PATH``), else the current docker context (``$DOCKER_CONTEXT``,
then ``currentContext`` in ``$DOCKER_CONFIG/config.json``, ``~/.docker`` by default) and
its endpoint in ``contexts/meta/<sha256 of its name>/meta.json``, else
``/var/run/docker.sock``. ``None`` when the client reaches its engine another way
(``ssh://``, ``tcp://``, a context with TLS material) or the socket is not there.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping

__all__ = ["DEFAULT_SOCKET", "api_wanted", "engine_socket"]

DEFAULT_SOCKET = "/var/run/docker.sock"


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def _context_host(config_dir: str, name: str) -> str | None:
    """The ``unix://`` host of docker context ``name``; ``None`` when it has TLS material
    or names no host (the CLI knows how to reach it)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    if os.path.isdir(os.path.join(config_dir, "contexts", "tls", digest, "docker")):
        return None
    try:
        with open(os.path.join(config_dir, "contexts", "meta", digest, "meta.json")) as handle:
            meta = json.load(handle)
    except (OSError, ValueError):
        return None
    host = ((meta.get("Endpoints") or {}).get("docker") or {}).get("Host")
    return host if isinstance(host, str) else None


def _current_context(config_dir: str) -> str | None:
    try:
        with open(os.path.join(config_dir, "config.json")) as handle:
            found = json.load(handle).get("currentContext")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def engine_socket(env: Mapping[str, str]) -> str | None:
    """The unix socket of the engine a docker client with environment ``env`` talks to,
    or ``None`` when it reaches it another way (or the socket is not there)."""
    host = env.get("DOCKER_HOST") or None
    if host is None:
        config_dir = env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
        context = env.get("DOCKER_CONTEXT") or _current_context(config_dir)
        if context and context != "default":
            host = _context_host(config_dir, context)
            if host is None:
                return None
    if host is None:
        return DEFAULT_SOCKET if _is_socket(DEFAULT_SOCKET) else None
    path = host.removeprefix("unix://")
    return path if host.startswith("unix://") and _is_socket(path) else None


def api_wanted(env: Mapping[str, str]) -> bool:
    """Whether queries go to the engine's socket: ``$CHUTES_BUILD_DOCKER_API`` (``1`` or
    ``0``), else yes unless ``$CHUTES_BUILD_DOCKER`` names a client, which may reach an
    engine of its own (a wrapper that sets ``DOCKER_HOST``, say): then the client answers."""
    value = env.get("CHUTES_BUILD_DOCKER_API", "")
    return value == "1" if value in ("0", "1") else not env.get("CHUTES_BUILD_DOCKER")
