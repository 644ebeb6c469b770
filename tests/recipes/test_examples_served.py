"""The CPU example chutes served by the real runtime (``python -m chutes_runtime --dev``).

Each chute runs in its own process on a free 127.0.0.1 port, with only the
runtime's dependencies (msgspec, starlette, uvicorn) doing the work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import free_port

from .test_examples import EXAMPLES

FILES = {
    "typed_echo": "chutes/tools/typed_echo.py",
    "ticker": "chutes/tools/ticker_stream.py",
    "report": "chutes/tools/report_file.py",
    "upstream": "chutes/tools/upstream_proxy.py",
    "lifecycle": "chutes/tools/lifecycle.py",
}


def _wait_alive(process: subprocess.Popen, base: str, log: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the runtime exited with {process.returncode}:\n{open(log).read()[-3000:]}"
            )
        try:
            if httpx.get(f"{base}/_alive", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the runtime did not start:\n{open(log).read()[-3000:]}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``{name: base URL}`` of the five CPU examples, each in its own runtime process."""
    logs = tmp_path_factory.mktemp("runtime-logs")
    env = {**os.environ, "REPORT_DIR": str(logs)}
    running = {}
    try:
        for name, path in FILES.items():
            port, log = free_port(), str(logs / f"{name}.log")
            argv = [sys.executable, "-m", "chutes_runtime", f"{path}:chute", "--dev",
                    "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
            with open(log, "w") as out:
                process = subprocess.Popen(argv, cwd=EXAMPLES, env=env, stdout=out, stderr=out)
            running[name] = (process, f"http://127.0.0.1:{port}", log)
        for process, base, log in running.values():
            _wait_alive(process, base, log)
        yield {name: base for name, (_, base, _) in running.items()}
    finally:
        for process, _, _ in running.values():
            process.terminate()
        for process, _, _ in running.values():
            process.wait(timeout=30)


def test_typed_echo_validates_and_answers(served) -> None:
    base = served["typed_echo"]
    reply = httpx.post(f"{base}/echo", json={"text": "hi", "repeat": 3})
    assert reply.status_code == 200 and reply.json() == {"text": "hi hi hi", "length": 8}
    assert httpx.post(f"{base}/stats", json={"text": "a b"}).json()["words"] == 2
    bad = httpx.post(f"{base}/echo", json={"text": "hi", "repeat": 99})
    assert bad.status_code in (400, 422) and "repeat" in bad.text


def test_ticker_streams_events(served) -> None:
    reply = httpx.post(f"{served['ticker']}/ticks", json={"count": 3, "prefix": "t"})
    events = [line for line in reply.text.splitlines() if line.startswith("data: ")]
    assert events == [
        'data: {"index":0,"label":"t-0","last":false}',
        'data: {"index":1,"label":"t-1","last":false}',
        'data: {"index":2,"label":"t-2","last":true}',
    ]


def test_report_is_sent_as_a_file(served) -> None:
    reply = httpx.post(f"{served['report']}/report", json={"rows": 3, "title": "sq"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert 'filename="sq-3.csv"' in reply.headers["content-disposition"]
    assert reply.text.splitlines() == ["n,sq", "0,0", "1,1", "2,4"]


def test_passthrough_reaches_the_upstream_server(served) -> None:
    base = served["upstream"]
    assert httpx.post(f"{base}/upper", json={"text": "abc"}).json() == {"text": "ABC"}
    assert httpx.post(f"{base}/health").json() == {"status": "ok"}


def test_hooks_ran_in_priority_order(served) -> None:
    status = httpx.post(f"{served['lifecycle']}/status").json()
    assert status["events"] == ["settings", "cache", "ready"]
