"""wait_http: polls with a growing pause, gives up with the last error. No engine needed."""

from __future__ import annotations

import socket

import httpx
import pytest
import trio

from chutes_build._errors import DeployError
from chutes_build.builders import wait_http


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
