"""Issue 7: the cord server under sustained load from other processes (short CI version).

wrk (good path, keep-alive) and a chaos process (bad, failing, oversized,
half-sent and abandoned requests, with /_ping between rounds) run against a
dev-mode server with ``concurrency = 4`` in its own process, while this
process samples /_conn_stats and the server's RSS. bench/soak_runtime.py is
the long run (``--duration``). Pass/fail never depends on timing: the only
time limits are hang guards.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import require

from ._runtime_load import probe_limit, soak
from ._runtime_proc import ServerProcess

CONCURRENCY = 4
DURATION = 8.0


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess("dev", concurrency=CONCURRENCY, body_timeout=2.0)
    yield proc
    proc.stop()


def assert_limit_exact(server: ServerProcess) -> None:
    probe = probe_limit(server, CONCURRENCY)
    assert probe["reached_limit"] and probe["one_released"], probe
    detail = f"Max concurrency exceeded: {CONCURRENCY}, try again later."
    assert probe["at_limit"] == (429, {"error": "RateLimitExceeded", "detail": detail})
    assert probe["below_limit"] == 200
    assert probe["holders"] == [200] * CONCURRENCY


def test_limit_is_exact_before_load(server: ServerProcess) -> None:
    assert_limit_exact(server)


def test_soak(server: ServerProcess) -> None:
    require(shutil.which("wrk") is not None, "wrk is not installed")
    connections = CONCURRENCY + 4
    report = soak(server, DURATION, connections=connections)
    wrk, chaos = report["wrk"], report["chaos"]
    assert wrk["other"] == 0 and wrk["errors"] == 0, report
    assert wrk["200"] > 0 and wrk["429"] > 0, report  # both sides of the limit were exercised
    assert chaos["unexpected_total"] == 0, chaos["unexpected"]
    assert "ping_failed:None" not in chaos["counts"] and chaos["pings"] > 0, chaos
    assert report["max_in_flight"] <= CONCURRENCY, report
    assert report["drained"], "requests stayed in flight after the load stopped"
    seen_429 = wrk["429"] + sum(v for k, v in chaos["counts"].items() if k.endswith(":429"))
    # Answers no client counted: the chaos client's deliberate disconnects, and the
    # at most one request per wrk connection still in flight when wrk stops.
    abandoned = chaos["counts"].get("disconnect:None", 0) + connections
    assert 0 <= report["rejected_server"] - seen_429 <= abandoned, report
    rss = report["rss_kb"]
    assert rss["end"] - rss["warm"] < max(rss["warm"] // 2, 32 * 1024), rss
    assert server.alive() and server.ping()
    assert server.unexpected_errors() == []


def test_limit_is_exact_after_load(server: ServerProcess) -> None:
    assert_limit_exact(server)
    assert server.conn_stats()["in_flight"] == 0
