"""Benchmark the dev loop: save → new answer, ``up --watch`` against ``up`` again.

On a one-chute workspace on the local Python base (``scripts/base-images python``),
measure in one run, for a code edit (the cord's answer changes) and an image edit (a
``run_command`` changes, and the answer):

- watch: ``chutes-build up --target local --watch`` runs; the file is saved and the
  chute polled (every 10 ms) until it answers as the edit says;
- restart: the old dev loop, the same save followed by ``chutes-build up --target
  local`` (a fresh process: it compiles, then restarts the container or rebuilds),
  polled the same way from the save on.

Prints the median of each, and restart / watch.

    python bench/bench_watch.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)


def _script(*args: str) -> str:
    proc = subprocess.run([os.path.join(REPO, "scripts", args[0]), *args[1:]],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def _docker() -> str:
    import trio

    from chutes_build.engine import find_docker

    return trio.run(find_docker, os.environ.get("CHUTES_BUILD_DOCKER")).path


def _answer(url: str) -> str | None:
    try:
        return httpx.post(f"{url}/hello", json="hi", timeout=5).json()["greeting"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def _until(url: str, want: str, started: float) -> float:
    """Seconds from ``started`` until ``url`` answers ``want``."""
    while (answer := _answer(url)) != want:
        if time.perf_counter() - started > 300:
            ps = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}} {{.Status}}"],
                                capture_output=True, text=True).stdout  # fmt: skip
            sys.exit(f"the chute never answered {want!r} (last: {answer!r})\n{ps}")
        time.sleep(0.01)
    return time.perf_counter() - started


def _edit(repo, kind: str, n: int) -> str:
    """Save an edit of ``kind``; the answer it brings."""
    greeting = f"{kind}-{n}"
    step = f"echo {n} > /app/name" if kind == "image" else None
    repo.write_chute("one", step=step or f"echo {repo.image_step} > /app/name",
                     greeting=greeting)  # fmt: skip
    return greeting


def _watch_round(repo, url: str, repeat: int) -> dict[str, list[float]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local", "--watch",
         "--json"], cwd=repo.root, env=repo.env(), stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    for line in proc.stdout:
        if '"watching"' in line:
            break
    times: dict[str, list[float]] = {"code": [], "image": []}
    try:
        for n in range(repeat):
            for kind in ("code", "image"):
                time.sleep(0.3)  # the loop is idle again
                started = time.perf_counter()
                want = _edit(repo, kind, n + 100)
                times[kind].append(_until(url, want, started))
                if kind == "image":
                    repo.image_step = str(n + 100)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return times


def _restart_round(repo, url: str, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"code": [], "image": []}
    for n in range(repeat):
        for kind in ("code", "image"):
            started = time.perf_counter()
            want = _edit(repo, kind, n + 200)
            repo.cli("up", "--target", "local", "--json")
            times[kind].append(_until(url, want, started))
            if kind == "image":
                repo.image_step = str(n + 200)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tests.build.conftest import make_monorepo

    _script("docker-up")
    base = _script("base-images", "python")
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_monorepo(Path(tmp), _docker(), base, ["one"])
        repo.image_step = "one"
        try:
            url = repo.up()["chutes"][0]["url"]
            watch = _watch_round(repo, url, args.repeat)
            restart = _restart_round(repo, url, args.repeat)
        finally:
            repo.cleanup()
    print(f"save -> new answer, median of {args.repeat} (load average "
          f"{os.getloadavg()[0]:.1f}):")  # fmt: skip
    for kind in ("code", "image"):
        ours, theirs = statistics.median(watch[kind]), statistics.median(restart[kind])
        print(f"  {kind} edit:  up --watch {ours:.3f} s   up again {theirs:.3f} s   "
              f"ratio {theirs / ours:.1f}x   (watch: {', '.join(f'{t:.3f}' for t in watch[kind])})")


if __name__ == "__main__":
    main()
