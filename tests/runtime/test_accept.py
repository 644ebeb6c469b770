"""Out of file descriptors: accept backs off, logs once per interval, the server recovers.

A real server process runs under a lowered RLIMIT_NOFILE and gets more loopback
connections than it can hold (issue 12: with ``ulimit -n 256`` and 2,000 connections
the stock loop logged 84,273 tracebacks and stopped answering).
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time

import httpx

from tests.conftest import REPO, free_port

from .conftest import CHUTES

LIMIT = 96  # open files the server may hold
FLOOD = 300  # connections opened against it


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def _start(port: int, log) -> subprocess.Popen:
    target = os.path.join(CHUTES, "hang_chute.py:chute")
    argv = [sys.executable, "-m", "chutes_runtime", target, "--dev", "--host", "127.0.0.1",
            "--port", str(port), "--warn-interval", "3600"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_limit)


def _wait(what, seconds: float = 60.0):
    """Poll ``what`` until true; a bound so that a server that stopped answering fails."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        threading.Event().wait(0.01)
    raise AssertionError(f"gave up waiting for {what.__name__}")


def _ping(url: str) -> bool:
    try:
        return httpx.get(url + "/_ping", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_issue_12_accept_errors_back_off_and_are_logged_once(tmp_path) -> None:
    port, path = free_port(), tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(path, "wb") as log:
        proc = _start(port, log)
    flood: list[socket.socket] = []
    try:
        _wait(lambda: proc.poll() is not None or _ping(url))
        assert proc.poll() is None, path.read_text()
        with httpx.Client(base_url=url, timeout=5) as kept:  # connected before the flood
            assert kept.get("/_ping").status_code == 200
            flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(FLOOD)]

            def refused() -> bool:
                return "cannot accept connections" in path.read_text()

            _wait(refused)
            for _ in range(20):  # the loop keeps serving the connections it holds
                answer = kept.post("/quick")
                assert (answer.status_code, answer.json()) == (200, "ok")
            for sock in flood:
                sock.close()
            flood = []
            _wait(lambda: _ping(url))  # new connections are accepted again
    finally:
        for sock in flood:
            sock.close()
        proc.terminate()
        proc.wait(30)
    text = path.read_text()
    lines = [line for line in text.splitlines() if "cannot accept connections" in line]
    assert len(lines) == 1, text[-3000:]
    assert "Too many open files (open-file limit 96)" in lines[0]
    assert "Traceback" not in text and "out of system resource" not in text
