"""The ASGI lifespan the app and the dev-mode switch share: startup, its failure, shutdown."""

from __future__ import annotations

from chutes_runtime._app import serve_lifespan


def _server(sent: list, calls: list):
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive():
        calls.append("receive")
        return next(messages)

    async def send(message):
        sent.append(message)

    return receive, send


async def test_startup_then_shutdown_in_order():
    sent, calls = [], []
    receive, send = _server(sent, calls)

    async def startup():
        calls.append("startup")

    async def shutdown():
        calls.append("shutdown")

    await serve_lifespan(receive, send, startup, shutdown)
    assert calls == ["receive", "startup", "receive", "shutdown"]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_a_failed_startup_is_reported_and_shutdown_never_runs():
    sent, calls = [], []
    receive, send = _server(sent, calls)

    async def startup():
        raise RuntimeError("no model weights")

    async def shutdown():
        calls.append("shutdown")

    await serve_lifespan(receive, send, startup, shutdown)
    assert calls == ["receive"]
    assert sent == [{
        "type": "lifespan.startup.failed",
        "message": "startup hook failed: RuntimeError('no model weights')",
    }]  # fmt: skip
