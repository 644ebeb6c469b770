"""A runtime server in a child process, for the fuzz, tamper and load suites (issue 7).

A separate process is what makes a crash visible: :meth:`ServerProcess.alive`
and :meth:`ServerProcess.ping` after each batch. Its stderr goes to a file;
:meth:`ServerProcess.unexpected_errors` lists the ERROR log lines other than
the expected "cord boom raised" (an ASGI exception or an asyncio protocol
failure shows up there even when the client saw only a closed socket).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from tests.conftest import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_EXPECTED = re.compile(r"cord boom raised")


def rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` in KiB, from /proc (no psutil)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class ServerProcess:
    """``python -m tests.hardening._runtime_server`` with a port, a log and a liveness check."""

    def __init__(
        self, mode: str = "dev", concurrency: int = 4, max_body: int = 1 << 20, body_timeout=60.0
    ) -> None:
        self.mode, self.port = mode, free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"runtime-{mode}-", suffix=".log")
        env = {**os.environ, "RUNTIME_HARD_CONCURRENCY": str(concurrency), "PYTHONPATH": ROOT}
        argv = [sys.executable, "-m", "tests.hardening._runtime_server", "--mode", mode]
        argv += ["--port", str(self.port), "--max-body", str(max_body)]
        argv += ["--body-timeout", str(body_timeout)]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        line = self.proc.stdout.readline()  # the child prints once it is listening
        if not line:
            self.proc.wait(10)
            raise RuntimeError(f"server did not start:\n{self.log_text()}")
        self.key = bytes.fromhex(json.loads(line)["key"] or "")
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self._client: Any = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def client(self) -> Any:
        """A signing, encrypting client (production mode only)."""
        if self._client is None:
            from substrateinterface import Keypair

            from tests.runtime.validator import ValidatorClient

            from ._runtime_server import MINER_URI, VALIDATOR_URI

            miner = Keypair.create_from_uri(MINER_URI).ss58_address
            alice = Keypair.create_from_uri(VALIDATOR_URI)
            self._client = ValidatorClient(self.url, self.key, alice, miner)
        return self._client

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ping(self, tries: int = 50) -> bool:
        """The health endpoint answers (a bounded number of tries, not a time limit)."""
        for _ in range(tries):
            try:
                if self.mode == "dev":
                    ok = self.http.get("/_ping").json().get("ok") is True
                else:
                    ok = self.client().call("POST", "/_ping", {"p": 1}).status_code == 200
                if ok:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def conn_stats(self) -> dict:
        return self.http.get("/_conn_stats").json()  # plain from a private IP in both modes

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def log_text(self) -> str:
        with open(self.log.name, errors="replace") as handle:
            return handle.read()

    def unexpected_errors(self) -> list[str]:
        lines = [
            line
            for line in self.log_text().splitlines()
            if line.startswith(("ERROR", "CRITICAL")) and not _EXPECTED.search(line)
        ]
        return lines

    def stop(self) -> None:
        self.http.close()
        if self._client is not None:
            self._client.http.close()
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()
        self.log.close()
