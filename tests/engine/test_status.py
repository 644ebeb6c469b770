"""The health ``ps`` reports: the chute must answer ``/_ping`` as itself."""

from __future__ import annotations

import httpx
import pytest

from chutes_build.engine._status import _ping, _started


def _client(body, status: int = 200) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/_ping"
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "body, status, health",
    [
        ({"ok": True, "chute": "a", "deploy": "k1"}, 200, "ok"),
        ({"ok": True, "chute": "b", "deploy": "k1"}, 200, "answered as 'b'"),
        ({"ok": True, "chute": "a", "deploy": "k2"}, 200, "answered as 'a'"),
        ({"detail": "x"}, 503, "answers 503"),
    ],
)
async def test_issue_15_health_is_ok_only_for_this_chute_and_key(body, status, health) -> None:
    async with _client(body, status) as client:
        assert await _ping(client, "http://127.0.0.1:1", "a", "k1") == health


async def test_issue_15_no_answer_is_said() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        assert await _ping(client, "http://127.0.0.1:1", "a", "k1") == "no answer"


def test_docker_start_times_parse() -> None:
    assert _started("2026-12-01T20:00:00.5Z") == pytest.approx(1796155200.5)
    assert _started("0001-01-01T00:00:00Z") is None and _started("") is None
