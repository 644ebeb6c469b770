"""Shared remote cache: the Bazel HTTP cache protocol, authenticated, best effort.

``GET``/``PUT {base}/ac/<key>`` holds action results and ``{base}/cas/<digest>``
blobs, so any Bazel cache server (bazel-remote, nginx with WebDAV) works.

Every entry is ``MAGIC ‖ HMAC-SHA256(team key, kind ‖ name ‖ payload) ‖ payload``:
whoever can write to the server but does not hold the team key cannot make this
client accept an entry (say, someone else's image id or deploy record), nor move
a valid entry to another key. An entry whose MAC fails is logged and ignored.

The cache never fails a build: an outage, a timeout or an HTTP error is logged
and reported as a miss (a failed PUT is dropped). After a connection failure
the cache switches itself off for the rest of the session, so an unreachable
server costs one timeout, not one per node.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..core import CacheError

__all__ = ["RemoteCacheStats", "RemoteCache", "remote_cache_from_env"]

log = logging.getLogger("chutes_build.remote_cache")
MAGIC = b"CBRC1\n"
_MAC_LEN = 32
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
MIN_KEY_BYTES = 16


@dataclass
class RemoteCacheStats:
    hits: int = 0
    misses: int = 0
    rejected: int = 0
    errors: int = 0
    puts: int = 0
    notes: list[str] = field(default_factory=list)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RemoteCache:
    """Async client of one remote cache server with one team key."""

    def __init__(
        self,
        base_url: str,
        key: bytes | str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout: float = 3.0,
        timeout: float = 60.0,
    ) -> None:
        key = key.encode() if isinstance(key, str) else key
        if len(key) < MIN_KEY_BYTES:
            raise CacheError(
                f"the remote cache team key is {len(key)} bytes; "
                f"at least {MIN_KEY_BYTES} are needed",
                fix="set CHUTES_BUILD_CACHE_KEY to a long random secret shared by the team "
                "(e.g. `openssl rand -hex 32`)",
            )
        self._key = key
        self.url = _redact(base_url)
        self.stats = RemoteCacheStats()
        self._down = False
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
        )

    def __repr__(self) -> str:
        return f"RemoteCache({self.url})"

    async def __aenter__(self) -> RemoteCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _mac(self, kind: str, name: str, payload: bytes) -> bytes:
        head = f"chutes-build-remote-cache/v1\0{kind}\0{name}\0".encode()
        return hmac.new(self._key, head + payload, hashlib.sha256).digest()

    def seal(self, kind: str, name: str, payload: bytes) -> bytes:
        """The stored form of an entry (exposed for tests and tools)."""
        return MAGIC + self._mac(kind, name, payload) + payload

    def _open(self, kind: str, name: str, entry: bytes) -> bytes | None:
        head = len(MAGIC) + _MAC_LEN
        if len(entry) < head or not entry.startswith(MAGIC):
            return None
        mac, payload = entry[len(MAGIC) : head], entry[head:]
        return payload if hmac.compare_digest(mac, self._mac(kind, name, payload)) else None

    def _note(self, message: str) -> None:
        self.stats.notes.append(message)
        log.warning("remote cache %s: %s", self.url, message)

    @staticmethod
    def _path(kind: str, name: str) -> str:
        if not _NAME.match(name):
            raise CacheError(
                f"invalid remote cache {kind} name {name!r}",
                fix="cache keys are hex digests; this is a bug in the caller",
            )
        return f"{kind}/{name}"

    async def _get(self, kind: str, name: str) -> bytes | None:
        path = self._path(kind, name)
        if self._down:
            self.stats.misses += 1
            return None
        try:
            response = await self._http.get(path)
        except httpx.HTTPError as exc:
            return self._failed(f"GET {path}: {type(exc).__name__}: {exc}", exc)
        if response.status_code == 404:
            self.stats.misses += 1
            return None
        if response.status_code != 200:
            return self._failed(f"GET {path}: HTTP {response.status_code}", None)
        payload = self._open(kind, name, response.content)
        if payload is None:
            self.stats.rejected += 1
            self.stats.misses += 1
            self._note(f"rejected {path}: bad or missing MAC (not written with this team key)")
            return None
        self.stats.hits += 1
        return payload

    def _failed(self, message: str, exc: Exception | None) -> None:
        self.stats.errors += 1
        self.stats.misses += 1
        if isinstance(exc, httpx.TransportError):
            self._down = True
            message += " (remote cache disabled for this run)"
        self._note(message)
        return None

    async def _put(self, kind: str, name: str, payload: bytes) -> bool:
        path = self._path(kind, name)
        if self._down:
            return False
        try:
            response = await self._http.put(path, content=self.seal(kind, name, payload))
        except httpx.HTTPError as exc:
            self._failed(f"PUT {path}: {type(exc).__name__}: {exc}", exc)
            return False
        if response.status_code not in (200, 201, 204):
            self._failed(f"PUT {path}: HTTP {response.status_code}", None)
            return False
        self.stats.puts += 1
        return True

    async def get_action(self, key: str) -> bytes | None:
        """The action result stored under ``key``, or None (miss, outage or rejected)."""
        return await self._get("ac", key)

    async def put_action(self, key: str, value: bytes) -> bool:
        return await self._put("ac", key, value)

    async def get_blob(self, digest: str) -> bytes | None:
        return await self._get("cas", digest)

    async def put_blob(self, digest: str, data: bytes) -> bool:
        return await self._put("cas", digest, data)


def remote_cache_from_env(
    env: Mapping[str, str] | None = None,
    *,
    url: str | None = None,
    key: str | None = None,
    **kwargs,
) -> RemoteCache | None:
    """The configured remote cache, or None when no URL is set.

    ``url``/``key`` (workspace settings) win over ``CHUTES_BUILD_REMOTE_CACHE`` and
    ``CHUTES_BUILD_CACHE_KEY``. A URL without a key is refused: unauthenticated
    entries could be injected by anyone who can write to the server.
    """
    env = os.environ if env is None else env
    url = url or env.get("CHUTES_BUILD_REMOTE_CACHE") or None
    key = key or env.get("CHUTES_BUILD_CACHE_KEY") or None
    if not url:
        return None
    if not key:
        raise CacheError(
            f"a remote cache is configured ({_redact(url)}) but no team key",
            fix="set CHUTES_BUILD_CACHE_KEY to the team's shared secret, "
            "or unset CHUTES_BUILD_REMOTE_CACHE",
        )
    return RemoteCache(url, key, **kwargs)
