"""The remote cache against a real nginx WebDAV server (scripts/nginx-cache)."""

from __future__ import annotations

import logging

import httpx
import pytest

from chutes_build import CacheError
from chutes_build.cache import RemoteCache, remote_cache_from_env
from tests._nginx import running_nginx_cache
from tests.conftest import free_port

TEAM_KEY = "team-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    """``(url, data folder)`` of a fresh nginx cache, stopped afterwards."""
    with running_nginx_cache(tmp_path_factory.mktemp("nginx-cache")) as served:
        yield served


@pytest.fixture
async def cache(nginx):
    async with RemoteCache(nginx[0], TEAM_KEY) as remote:
        yield remote


async def test_round_trip_for_actions_and_blobs(cache, nginx):
    assert await cache.put_action("a1b2", b'{"image_id": "x"}')
    assert await cache.put_blob("d00d", b"\x00blob")
    assert await cache.get_action("a1b2") == b'{"image_id": "x"}'
    assert await cache.get_blob("d00d") == b"\x00blob"
    stored = (nginx[1] / "ac" / "a1b2").read_bytes()
    assert stored.startswith(b"CBRC1\n") and stored.endswith(b'{"image_id": "x"}')
    assert (cache.stats.hits, cache.stats.puts, cache.stats.errors) == (2, 2, 0)


async def test_missing_entry_is_a_miss(cache):
    assert await cache.get_action("f" * 64) is None
    assert (cache.stats.misses, cache.stats.errors) == (1, 0)


async def test_tampered_or_foreign_entries_are_rejected(cache, nginx, caplog):
    folder = nginx[1] / "ac"
    (folder / "garbage").write_bytes(b"not an entry at all")
    assert await cache.put_action("good", b"deploy record A")
    entry = (folder / "good").read_bytes()
    (folder / "flipped").write_bytes(entry[:-1] + b"B")  # payload changed after sealing
    (folder / "moved").write_bytes(entry)  # a valid entry under another key
    async with RemoteCache(nginx[0], "another-team-key-0123456789") as other:
        await other.put_action("foreign", b"someone else's image id")
    with caplog.at_level(logging.WARNING, logger="chutes_build.remote_cache"):
        for key in ("garbage", "flipped", "moved", "foreign"):
            assert await cache.get_action(key) is None, key
    assert cache.stats.rejected == 4
    assert all("bad or missing MAC" in r.getMessage() for r in caplog.records)
    assert await cache.get_action("good") == b"deploy record A"


async def test_server_down_is_a_miss_and_switches_the_cache_off(caplog):
    async with RemoteCache(f"http://127.0.0.1:{free_port()}", TEAM_KEY) as cache:
        with caplog.at_level(logging.WARNING, logger="chutes_build.remote_cache"):
            assert await cache.get_action("abc") is None
            assert await cache.put_action("abc", b"x") is False
            assert await cache.get_blob("abc") is None
    assert cache.stats.errors == 1  # later calls skip the dead server
    assert "ConnectError" in caplog.records[0].getMessage()
    assert "disabled for this run" in caplog.records[0].getMessage()


async def test_http_errors_are_misses():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500 if request.method == "GET" else 403)

    transport = httpx.MockTransport(handler)
    async with RemoteCache("http://cache.test/base", TEAM_KEY, transport=transport) as cache:
        assert await cache.get_action("abc") is None
        assert await cache.put_action("abc", b"x") is False
        assert await cache.get_action("abc") is None  # HTTP errors do not switch it off
    assert cache.stats.errors == 3


def test_configuration_from_env_and_arguments():
    assert remote_cache_from_env({}) is None
    env = {
        "CHUTES_BUILD_REMOTE_CACHE": "http://user:pw@127.0.0.1:1/c",
        "CHUTES_BUILD_CACHE_KEY": TEAM_KEY,
    }
    cache = remote_cache_from_env(env)
    assert repr(cache) == "RemoteCache(http://127.0.0.1:1/c)"  # credentials stay out of logs
    assert remote_cache_from_env({}, url="http://127.0.0.1:2", key=TEAM_KEY).url.endswith(":2")
    with pytest.raises(CacheError, match=r"^a remote cache is configured .* but no team key"):
        remote_cache_from_env({"CHUTES_BUILD_REMOTE_CACHE": "http://127.0.0.1:1"})
    with pytest.raises(CacheError, match=r"^the remote cache team key is 5 bytes"):
        RemoteCache("http://127.0.0.1:1", "short")
    with pytest.raises(CacheError, match="invalid remote cache ac name"):
        RemoteCache._path("ac", "../etc/passwd")
