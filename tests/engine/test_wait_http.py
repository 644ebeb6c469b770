"""wait_http: polls with a growing pause, gives up with the last error. No engine needed."""

from __future__ import annotations

import socket

import httpx
import pytest
import trio

from chutes_build.core._errors import DeployError
from chutes_build.engine import wait_http
from chutes_build.engine._local_ids import identity_mismatch


async def test_waits_through_refusals_and_5xx(autojump_clock):
    answers = iter([None, None, 503, 200])
    tries = []

    def handler(request: httpx.Request) -> httpx.Response:
        tries.append(trio.current_time())
        status = next(answers)
        if status is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status, text=f"status {status}")

    response = await wait_http(
        "http://127.0.0.1:9/health", timeout=10, transport=httpx.MockTransport(handler)
    )
    assert response.text == "status 200"
    assert tries == pytest.approx([0, 0.05, 0.15, 0.35])  # the pause doubles


async def test_gives_up_with_the_last_error(autojump_clock):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    with pytest.raises(
        DeployError, match=r"^http://127\.0\.0\.1:9/ did not answer within 5s \(last: HTTP 502\)"
    ):
        await wait_http("http://127.0.0.1:9/", timeout=5, transport=httpx.MockTransport(handler))
    assert trio.current_time() == 5


async def test_a_closed_port_times_out(autojump_clock):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(
            DeployError, match=rf"^http://127\.0\.0\.1:{port}/ did not answer .*Connect"
        ):
            await wait_http(f"http://127.0.0.1:{port}/", timeout=2)


async def test_gives_up_at_once_when_the_server_has_exited(autojump_clock):
    lives = iter([True, True, False])
    asked = []

    async def alive() -> bool:
        asked.append(trio.current_time())
        return next(lives)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    with pytest.raises(
        DeployError, match=r"^http://127\.0\.0\.1:9/ did not answer: the container exited"
    ):
        await wait_http("http://127.0.0.1:9/", timeout=60, transport=httpx.MockTransport(handler),
                        alive=alive)  # fmt: skip
    assert asked == pytest.approx([0, 0.05, 0.15])  # asked after each failed try, not at 60s


async def test_issue_12_an_answer_from_the_wrong_server_is_not_health(autojump_clock):
    bodies = iter([{"ok": True, "chute": "other", "deploy": "k2"}] * 2
                  + [{"ok": True, "chute": "mine", "deploy": "k1"}])  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(bodies))

    response = await wait_http("http://127.0.0.1:9/_ping", timeout=10,
                               transport=httpx.MockTransport(handler),
                               expect=lambda r: identity_mismatch(r, "mine", "k1"))  # fmt: skip
    assert response.json()["chute"] == "mine"
    assert trio.current_time() == pytest.approx(0.15)  # two wrong answers were waited out


async def test_issue_12_a_server_that_is_not_a_chute_is_named_in_the_error(autojump_clock):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>nginx</html>")

    with pytest.raises(
        DeployError,
        match=r"^http://127\.0\.0\.1:9/_ping did not answer within 3s \(last: HTTP 404 from a "
        r"server that is not a chute: '<html>nginx</html>'\)",
    ):
        await wait_http("http://127.0.0.1:9/_ping", timeout=3,
                        transport=httpx.MockTransport(handler),
                        expect=lambda r: identity_mismatch(r, "mine", "k1"))  # fmt: skip
