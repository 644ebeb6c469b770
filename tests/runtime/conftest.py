"""Fixtures that start real servers (uvicorn on free 127.0.0.1 ports, in threads)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chutes_runtime import Runtime, Settings
from tests.conftest import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
CHUTES = os.path.join(HERE, "chutes")


class Served:
    """A runtime serving in a background thread with its own event loop."""

    def __init__(self, settings: Settings, gpu: Any = None) -> None:
        self.runtime = Runtime(settings, gpu=gpu)
        self.url = f"http://127.0.0.1:{settings.port}"
        self.error: BaseException | None = None
        self.result: bool | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.result = self.runtime.run()
        except BaseException as exc:  # surfaced by start()
            self.error = exc
            self.runtime.started.set()

    def start(self) -> Served:
        self.thread.start()
        if not self.runtime.started.wait(60) or self.error is not None:
            raise RuntimeError(f"runtime did not start: {self.error!r}")
        return self

    def stop(self) -> None:
        self.runtime.stop()
        self.thread.join(30)

    @property
    def app(self) -> Any:
        return self.runtime.app


def serve(target: str, **kwargs: Any) -> Served:
    gpu = kwargs.pop("gpu", None)
    settings = Settings(
        target=os.path.join(CHUTES, target),
        host="127.0.0.1",
        port=free_port(),
        log_level="warning",
        **kwargs,
    )
    return Served(settings, gpu=gpu).start()


class Upstream:
    """A raw ASGI upstream (what vLLM would be) for passthrough cords."""

    def __init__(self) -> None:
        self.hang_closed = threading.Event()
        self.requests: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.requests.append((scope["method"], scope["path"], body))
        path = scope["path"]
        if path == "/up/complete":
            out = b'{"got":' + body + b"}"
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(out)).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": out})
        elif path == "/up/stream":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            for i in range(3):
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"data: {i}\n\n".encode(),
                        "more_body": True,
                    }
                )
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        elif path == "/up/hang":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            await send(
                {"type": "http.response.body", "body": b"data: first\n\n", "more_body": True}
            )
            while (await receive())["type"] != "http.disconnect":
                pass
            self.hang_closed.set()
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 418,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"error":"teapot"}'})


@pytest.fixture(scope="session")
def upstream() -> Iterator[tuple[Upstream, int]]:
    import uvicorn

    app, port = Upstream(), free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    yield app, port
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module", params=["h1", "h11"])
def dev(request: pytest.FixtureRequest, upstream: tuple[Upstream, int]) -> Iterator[Served]:
    """The dev chute, served once with each HTTP/1.1 implementation."""
    os.environ["RUNTIME_TEST_UPSTREAM_PORT"] = str(upstream[1])
    served = serve("dev_chute.py:chute", dev=True, max_body_bytes=4096, http=request.param)
    yield served
    served.stop()
