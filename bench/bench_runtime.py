"""Benchmark: the chutes SDK's dev server against chutes_runtime, same host, same load.

    python bench/bench_runtime.py [--duration 10] [--connections 32]

Starts `chutes run FILE:chute --dev` from a venv with chutes==0.6.9 (reuses
the venv that scripts/sdk-venv makes and reuses)
and `python -m chutes_runtime FILE:chute --dev`, drives each with the same wrk
command (POST of a small JSON body from a lua script), and prints requests/s,
ratios and p99 latencies:

  (a) ours with a msgspec Struct input  vs  the SDK with a pydantic model input
  (b) the same SDK chute file served by both
  (c) p99 latency of each at equal concurrency

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request

SDK_VERSION = "0.6.9"

SDK_FILE = """
from pydantic import BaseModel, Field
from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="bench", name="echo", tag="0.1").from_base("parachutes/python:3.12")
chute = Chute(username="bench", name="echo", image=image,
              node_selector=NodeSelector(gpu_count=1), concurrency=256)


class EchoIn(BaseModel):
    text: str
    times: int = Field(1, ge=1)


@chute.cord(public_api_path="/echo", public_api_method="POST")
async def echo(self, data: EchoIn) -> dict:
    return {"text": data.text * data.times}
"""

STRUCT_FILE = """
import msgspec
from chutes_build import Chute

chute = Chute(username="bench", name="echo", image="parachutes/python:3.12", concurrency=256)


class EchoIn(msgspec.Struct):
    text: str
    times: int = 1


class EchoOut(msgspec.Struct):
    text: str


@chute.cord(public_api_path="/echo")
async def echo(self, data: EchoIn) -> EchoOut:
    return EchoOut(text=data.text * data.times)
"""

LUA = """
wrk.method = "POST"
wrk.body = '{"text":"hello","times":2}'
wrk.headers["Content-Type"] = "application/json"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sdk_python() -> str:
    """A python with chutes==0.6.9, from scripts/sdk-venv (made once, then reused)."""
    script = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "sdk-venv"
    )
    result = subprocess.run([script], check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/echo",
        data=b'{"text":"x"}',
        headers={"Content-Type": "application/json"},
    )
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {timeout}s")


def start_sdk(python: str, folder: str, module: str) -> tuple[subprocess.Popen, int]:
    port, logging_port = free_port(), free_port()
    chutes = os.path.join(os.path.dirname(python), "chutes")
    env = {**os.environ, "CHUTES_EXECUTION_CONTEXT": "REMOTE"}
    cmd = [chutes, "run", f"{module}:chute", "--dev", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--logging-port", str(logging_port)]
    proc = subprocess.Popen(
        cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(port, proc)
    return proc, port


def start_ours(folder: str, file: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [sys.executable, "-m", "chutes_runtime", os.path.join(folder, file) + ":chute", "--dev"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": repo}
    proc = subprocess.Popen(
        cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(port, proc)
    return proc, port


def _ms(text: str) -> float:
    """A wrk latency (``512.00us``, ``3.20ms``, ``1.05s``, ``1.20m``, ``1.00h``) in ms."""
    value, unit = re.match(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def wrk(port: int, lua: str, duration: int, connections: int) -> dict:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        lua,
        f"http://127.0.0.1:{port}/echo",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p99_ms": p99,
        "non2xx": int(bad.group(1)) if bad else 0,
        "errors": errors.group(0) if errors else "",
    }


def rounds(servers: dict[str, int], lua: str, duration: int, connections: int, count: int) -> dict:
    """Interleave the servers round by round (a shared, noisy host): best req/s, median p99."""
    runs: dict[str, list[dict]] = {name: [] for name in servers}
    for port in servers.values():
        wrk(port, lua, 2, connections)  # warm-up
    for _ in range(count):
        for name, port in servers.items():
            runs[name].append(wrk(port, lua, duration, connections))
    result = {}
    for name, samples in runs.items():
        best = max(samples, key=lambda r: r["rps"])
        p99s = sorted(r["p99_ms"] for r in samples)
        all_rps = [round(r["rps"]) for r in samples]
        result[name] = {**best, "p99_ms": p99s[len(p99s) // 2], "all_rps": all_rps}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    python = sdk_python()
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as folder:
        for name, text in (
            ("sdk_echo.py", SDK_FILE),
            ("struct_echo.py", STRUCT_FILE),
            ("post.lua", LUA),
        ):
            with open(os.path.join(folder, name), "w") as handle:
                handle.write(textwrap.dedent(text))
        try:
            servers = {}
            for name, start in (
                ("sdk", lambda: start_sdk(python, folder, "sdk_echo")),
                ("ours_sdk", lambda: start_ours(folder, "sdk_echo.py")),
                ("ours_struct", lambda: start_ours(folder, "struct_echo.py")),
            ):
                proc, servers[name] = start()
                procs.append(proc)
            lua = os.path.join(folder, "post.lua")
            result = rounds(servers, lua, args.duration, args.connections, args.rounds)
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report(result["sdk"], result["ours_sdk"], result["ours_struct"], args)
    return 0


def report(sdk: dict, ours_sdk: dict, ours_struct: dict, args: argparse.Namespace) -> None:
    connections = args.connections
    print(
        f"\nwrk -t1 -c{connections} -d{args.duration}s x {args.rounds} interleaved rounds, "
        f"POST /echo, {os.cpu_count()} CPUs; best req/s, median p99\n"
    )
    print(f"{'server':<44}{'req/s':>10}{'p99 ms':>10}{'non-2xx':>9}  all rounds")
    rows = (
        ("SDK 0.6.9 dev server, pydantic model", sdk),
        ("chutes_runtime, same SDK file (pydantic)", ours_sdk),
        ("chutes_runtime, msgspec Struct input", ours_struct),
    )
    for label, row in rows:
        line = f"{label:<44}{row['rps']:>10.0f}{row['p99_ms']:>10.2f}{row['non2xx']:>9}"
        line += f"  {row['all_rps']}"
        print(line + (f"  {row['errors']}" if row["errors"] else ""))
    print()
    a, b = ours_struct["rps"] / sdk["rps"], ours_sdk["rps"] / sdk["rps"]
    print(f"(a) Struct vs SDK pydantic: {a:.1f}x requests/s (target >= 15x)")
    print(f"(b) same SDK file:          {b:.1f}x requests/s (target >= 5x)")
    print(
        f"(c) p99 at c={connections}: SDK {sdk['p99_ms']:.2f} ms, ours (SDK file) "
        f"{ours_sdk['p99_ms']:.2f} ms, ours (Struct) {ours_struct['p99_ms']:.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
