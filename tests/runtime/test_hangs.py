"""Cords that hang, stall the loop, run too long or return what JSON cannot hold (issue 12)."""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from .conftest import Served, serve

REQUEST = b"POST /%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"


@pytest.fixture(scope="module", params=["h1", "h11"])
def hangs(request: pytest.FixtureRequest) -> Iterator[Served]:
    served = serve(
        "hang_chute.py:chute",
        dev=True,
        http=request.param,
        cord_timeouts={"nap": 0.2},
        loop_lag_warn_s=0.2,
        warn_interval_s=3600.0,
    )
    yield served
    served.app.module.RELEASE.set()
    served.stop()


def _in_flight(served: Served) -> int:
    return httpx.get(served.url + "/_conn_stats").json()["in_flight"]


def _until(served: Served, count: int) -> None:
    for _ in range(3000):
        if _in_flight(served) == count:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"in-flight never reached {count} (now {_in_flight(served)})")


def _hang_and_leave(served: Served, cord: str) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    for client in clients:
        client.sendall(REQUEST % cord.encode())
    _until(served, 2)
    full = httpx.post(served.url + "/quick")
    assert full.status_code == 429
    for client in clients:
        client.close()
    _until(served, 0)


@pytest.mark.parametrize("cord", ["hang", "hang_sync", "hang_stream"])
def test_issue_12_clients_that_leave_a_hung_cord_free_its_slots(
    hangs: Served, cord: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chutes_runtime")
    before = hangs.app.metrics.requests.get((cord, 499), 0)
    _hang_and_leave(hangs, cord)
    answer = httpx.post(hangs.url + "/quick")
    assert (answer.status_code, answer.json()) == (200, "ok")
    assert hangs.app.metrics.requests[(cord, 499)] == before + 2
    gone = [r.getMessage() for r in caplog.records if "(499)" in r.getMessage()]
    assert len(gone) == 2
    assert all(
        re.match(rf"^client disconnected during cord {cord}: call cancelled", g) for g in gone
    )
    if cord != "hang_sync":
        assert hangs.app.module.CANCELLED.count(cord) >= 2


def test_issue_12_a_cord_past_its_time_limit_is_504(hangs: Served) -> None:
    answer = httpx.post(hangs.url + "/nap")
    assert (answer.status_code, answer.json()) == (
        504,
        {"detail": "cord nap timed out after 0.2 s"},
    )
    assert _in_flight(hangs) == 0


def test_issue_12_an_unencodable_result_is_a_clean_500(
    hangs: Served, caplog: pytest.LogCaptureFixture
) -> None:
    answer = httpx.post(hangs.url + "/odd")
    assert (answer.status_code, answer.json()) == (500, {"detail": "Internal Server Error"})
    records = [r for r in caplog.records if r.name == "chutes_runtime"]
    assert len(records) == 1 and records[0].exc_info is None
    assert re.match(
        r"^cord odd returned a dict, which cannot be encoded as JSON \(.*object.*\); return ",
        records[0].getMessage(),
    )


def test_issue_12_an_async_cord_blocking_the_loop_is_logged_once_per_interval(
    hangs: Served, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):
        answer = httpx.post(hangs.url + "/blocker", json={"seconds": 1.0}, timeout=30)
        assert answer.json() == "done"
    stalls = [r.getMessage() for r in caplog.records if "event loop blocked" in r.getMessage()]
    assert len(stalls) == 1, stalls  # the second stall falls inside the interval
    assert re.match(
        r"^event loop blocked for \d+\.\d s at hang_chute\.py:\d+ in blocker: ", stalls[0]
    )


def test_issue_12_a_blocking_start_up_hook_is_not_reported_as_a_stall(
    caplog: pytest.LogCaptureFixture,
) -> None:
    served = serve("slow_start_chute.py:chute", dev=True, loop_lag_warn_s=0.2)
    try:
        assert httpx.post(served.url + "/ready").json() == "ready"
    finally:
        served.stop()
    assert not [r for r in caplog.records if "event loop blocked" in r.getMessage()]
