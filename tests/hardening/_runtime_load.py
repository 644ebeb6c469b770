"""The runtime soak (issue 7): wrk on the good path, a chaos process, a monitor, a limit probe.

Shared by tests/hardening/test_runtime_load.py (short) and bench/soak_runtime.py (long).

* wrk (a second process) POSTs to the ``slow`` and ``echo`` cords over keep-alive
  connections; a Lua script counts the statuses (200 and 429 expected).
* ``python -m tests.hardening._runtime_load chaos`` (a third process) sends bad,
  failing, oversized, half-sent and abandoned requests and checks /_ping between
  them, recording every status against the set expected for its kind.
* The monitor (this process) samples /_conn_stats (in flight never above the
  limit) and the server's RSS.
* :func:`probe_limit` checks the limit exactly: with ``concurrency`` requests held
  in flight the next one gets 429; with one fewer it gets 200.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from typing import Any

import httpx

from ._runtime_raw import HOSTILE, exchange, request, statuses

WRK_LUA = r"""
local paths = {"/slow", "/echo", "/echo"}
local i = 0
c200, c429, cother = 0, 0, 0
request = function()
  i = i + 1
  return wrk.format("POST", paths[(i % #paths) + 1],
    {["Content-Type"] = "application/json"}, '{"n": 1}')
end
response = function(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 429 then c429 = c429 + 1
  else cother = cother + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c200"); b = b + t:get("c429"); c = c + t:get("cother")
  end
  io.write(string.format('WRK {"200": %d, "429": %d, "other": %d, "errors": %d}\n',
    a, b, c, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""

#: kind -> statuses that are right for it (429: the limit was reached, also right).
EXPECTED: dict[str, set[int]] = {
    "bad_json": {400, 429},  # the limit is checked before the body is decoded
    "wrong_type": {422, 429},
    "boom": {500, 429},
    "oversize": {413},
    "hostile": set(range(100, 500)),
    "unknown": {404},
}


def start_wrk(port: int, duration: float, connections: int) -> subprocess.Popen:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(WRK_LUA)
    script.close()
    argv = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{max(1, int(duration))}s"]
    argv += ["-s", script.name, f"http://127.0.0.1:{port}"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(proc: subprocess.Popen, timeout: float) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    for line in out.splitlines():
        if line.startswith("WRK "):
            return json.loads(line[4:])
    raise RuntimeError(f"wrk printed no summary:\n{out}")


# ---------------------------------------------------------------- chaos (its own process)
def _status(port: int, data: bytes) -> int | None:
    found = statuses(exchange(port, data, timeout=30))
    return found[-1] if found else None


def _abandon(port: int, data: bytes, wait: float) -> None:
    """Send ``data`` and disconnect after ``wait`` seconds without reading the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        time.sleep(wait)


def _one_round(port: int, http: httpx.Client, record: Any) -> None:
    record("bad_json", _status(port, request(body=b"{")))
    record("wrong_type", _status(port, request(target=b"/item", body=b'{"text": 1}')))
    record("boom", _status(port, request(target=b"/boom", body=b"{}")))
    big = request(headers=[(b"content-length", b"%d" % (4 << 20))], length=False)
    record("oversize", _status(port, big))
    record("unknown", _status(port, request(target=b"/nowhere", body=b"{}")))
    for _, data in HOSTILE[:12]:
        record("hostile", _status(port, data))
    _abandon(port, request(target=b"/slow", body=b"{}"), 0.05)  # gone while the cord runs
    record("disconnect", None)
    _abandon(port, request(headers=[(b"content-length", b"100")], length=False) + b"{", 0.0)
    record("half_body", None)
    for tries in range(1, 51):  # health answers within a bounded number of tries
        try:
            if http.get("/_ping").status_code == 200:
                record("ping_tries", tries)
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    else:
        record("ping_failed", None)


def chaos(port: int, duration: float, threads: int) -> dict:
    counts: Counter = Counter()
    unexpected: list = []
    ping_tries: list[int] = []
    lock = threading.Lock()

    def record(kind: str, status: int | None) -> None:
        with lock:
            if kind == "ping_tries":
                ping_tries.append(status)
                return
            counts[f"{kind}:{status}"] += 1
            if kind in EXPECTED and status not in EXPECTED[kind]:
                unexpected.append((kind, status))

    def loop() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                _one_round(port, http, record)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "counts": dict(counts),
        "unexpected": unexpected[:50],
        "unexpected_total": len(unexpected),
        "ping_max_tries": max(ping_tries, default=0),
        "pings": len(ping_tries),
        "requests": sum(counts.values()),
    }


def start_chaos(port: int, duration: float, threads: int = 2) -> subprocess.Popen:
    from ._runtime_proc import ROOT

    argv = [sys.executable, "-m", "tests.hardening._runtime_load", "chaos", "--port", str(port)]
    argv += ["--duration", str(duration), "--threads", str(threads)]
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


# ---------------------------------------------------------------- the limit, exactly
def _wait_in_flight(server: Any, want: int, tries: int = 400) -> bool:
    for _ in range(tries):
        if server.conn_stats()["in_flight"] == want:
            return True
        time.sleep(0.025)
    return False


def probe_limit(server: Any, concurrency: int) -> dict:
    """Hold exactly ``concurrency`` requests: the next is 429; release one: the next is 200."""
    folder = tempfile.mkdtemp(prefix="runtime-hold-")
    flags = [os.path.join(folder, f"flag{i}") for i in range(concurrency)]
    answers: list = [None] * concurrency

    def hold(i: int) -> None:
        with httpx.Client(timeout=120) as http:
            answers[i] = http.post(f"{server.url}/hold", json={"flag": flags[i]}).status_code

    holders = [threading.Thread(target=hold, args=(i,)) for i in range(concurrency)]
    result: dict = {}
    try:
        for thread in holders:
            thread.start()
        result["reached_limit"] = _wait_in_flight(server, concurrency)
        over = server.http.post("/echo", json={"probe": "over"})
        result["at_limit"] = (over.status_code, over.json())
        open(flags[0], "w").close()
        result["one_released"] = _wait_in_flight(server, concurrency - 1)
        under = server.http.post("/echo", json={"probe": "under"})
        result["below_limit"] = under.status_code
    finally:
        for flag in flags:
            open(flag, "w").close()
        for thread in holders:
            thread.join(120)
        shutil.rmtree(folder, ignore_errors=True)
    result["holders"] = answers
    return result


# ---------------------------------------------------------------- the whole soak
def soak(server: Any, duration: float, connections: int, chaos_threads: int = 2) -> dict:
    """Run wrk and the chaos process against ``server`` for ``duration`` s; return the figures."""
    rejected_before = _rejected(server)
    wrk = start_wrk(server.port, duration, connections)
    chaos_proc = start_chaos(server.port, duration, chaos_threads)
    samples, rss = [], []
    start = time.monotonic()
    end, warm_at = start + duration, start + duration / 4
    warm = 0
    while time.monotonic() < end:
        samples.append(server.conn_stats()["in_flight"])
        rss.append(server.rss_kb())
        if not warm and time.monotonic() >= warm_at:
            warm = rss[-1]  # RSS once the load has run a quarter of the time
        time.sleep(0.05)
    report = {"wrk": wrk_result(wrk, duration + 120)}
    out, _ = chaos_proc.communicate(timeout=duration + 300)
    report["chaos"] = json.loads(out.strip().splitlines()[-1])
    report["drained"] = _wait_in_flight(server, 0)
    report["rejected_server"] = _rejected(server) - rejected_before
    report["max_in_flight"] = max(samples, default=0)
    report["samples"] = len(samples)
    report["rss_kb"] = {"first": rss[0] if rss else 0, "warm": warm, "max": max(rss, default=0)}
    report["rss_kb"]["end"] = server.rss_kb()
    return report


def _rejected(server: Any) -> int:
    for line in server.http.get("/_metrics").text.splitlines():
        if line.startswith("requests_rejected_total"):
            return int(line.rsplit(" ", 1)[1])
    return 0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=("chaos",))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    print(json.dumps(chaos(args.port, args.duration, args.threads)), flush=True)


if __name__ == "__main__":
    main()
