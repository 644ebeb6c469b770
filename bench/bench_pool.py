"""Benchmark a pool of engines: a cold build on 1 engine against 3, then a new machine.

Starts a registry (scripts/registry) and four empty engines (scripts/dockerd-extra) in a
temporary folder, writes a workspace of ``--chutes`` chutes whose last step waits on I/O
(``RUN sleep SECONDS``), and measures, each in a fresh ``chutes-build build --json``:

1. cold, 1 engine: every layer built on one engine (``--jobs`` builds at once);
2. cold, 3 engines: the same chutes (new content, so nothing is in any cache) on three
   engines, each with the same ``--jobs`` limit; prints the ratio (target >= 2.4);
3. new machine: an empty fourth engine with the same registry and cache: the build
   reports 0 builds, then ``docker pull`` brings every image onto it (what
   ``up --target local`` does for the images it runs).

``--jobs`` defaults to 1 build at a time per engine: the engines bound the build, as
when each engine is a machine of its own. Here all engines share one small host, so
with more builds per engine the host's CPUs (each step's container start, layer
export and push) bound both sides and the ratio says more about the host than the pool.

The base image (``chutes-build/busybox:latest``, scripts/base-images busybox) lives in
this machine's engine; the pool copies it into each engine that builds from it, once,
and that copy is part of the cold timings. Everything started is stopped at the end.

    python bench/bench_pool.py [--chutes 20] [--sleep 2] [--jobs 1]
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
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRIPTS = os.path.join(REPO, "scripts")
DOCKER = os.environ.get("CHUTES_BUILD_DOCKER", "/usr/bin/docker")

CHUTE = """\
from chutes_build import Chute, Image

image = (
    Image(username="bench", name="{name}", tag="1")
    .from_base("chutes-build/busybox:latest")
    .run_command("echo {run} {name} > /name")
    .run_command("sleep {sleep}")
)
chute = Chute(username="bench", name="{name}", image=image)
"""


def _script(*args: str) -> str:
    proc = subprocess.run([os.path.join(SCRIPTS, args[0]), *args[1:]], capture_output=True,
                          text=True)  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout.split()[-1] if proc.stdout.split() else ""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _workspace(folder: str, registry: str, chutes: int, sleep: float) -> str:
    root = os.path.join(folder, "ws")
    os.makedirs(os.path.join(root, "chutes"))
    with open(os.path.join(root, "pyproject.toml"), "w") as handle:
        handle.write('[tool.chutes-build]\nchutes = ["chutes/*.py"]\ncache-dir = ".cache"\n'
                     f'network = "none"\nregistry = "{registry}/bench"\n')  # fmt: skip
    _write_chutes(root, chutes, sleep)
    return root


def _write_chutes(root: str, chutes: int, sleep: float) -> None:
    run = uuid.uuid4().hex[:12]  # new content: nothing of it is in any engine's cache
    for i in range(chutes):
        path = os.path.join(root, "chutes", f"c{i:02d}.py")
        with open(path, "w") as handle:
            handle.write(CHUTE.format(name=f"c{i:02d}", run=run, sleep=sleep))


def _build(root: str, engines: list[tuple[str, str]], jobs: int) -> tuple[float, dict]:
    builders = ",".join(f"{name}={host}" for name, host in engines)
    argv = [sys.executable, "-m", "chutes_build.cli", "build", "--json", "--jobs", str(jobs),
            "--builders", builders]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": REPO})  # fmt: skip
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"chutes-build build failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed, json.loads(proc.stdout.splitlines()[-1])["summary"]


def _built(summary: dict) -> str:
    return ", ".join(f"{e['name']}: {e['built']}" for e in summary["pool"]["engines"])


def _pull_all(host: str, refs: list[str]) -> float:
    env = {**os.environ, "DOCKER_HOST": host}
    started = time.perf_counter()
    procs = [subprocess.Popen([DOCKER, "pull", "--quiet", ref], env=env,
                              stdout=subprocess.DEVNULL) for ref in refs]  # fmt: skip
    if any(proc.wait() != 0 for proc in procs):
        sys.exit("docker pull failed")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chutes", type=int, default=20)
    parser.add_argument("--sleep", type=float, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="builds at once per engine")
    args = parser.parse_args()
    _script("docker-up")
    _script("base-images", "busybox")
    folder = tempfile.mkdtemp(prefix="cbb-", dir="/tmp")
    engines: list[tuple[str, str]] = []
    try:
        registry = _script("registry", "start", str(_port()), os.path.join(folder, "reg"))
        for name in ("e1", "e2", "e3", "new"):
            engines.append((name, _script("dockerd-extra", "start", name,
                                          os.path.join(folder, name))))  # fmt: skip
        root = _workspace(folder, registry, args.chutes, args.sleep)
        one, summary = _build(root, engines[:1], args.jobs)
        print(f"cold build, 1 engine:  {one:6.2f} s  (built {_built(summary)})")
        _write_chutes(root, args.chutes, args.sleep)
        three, summary = _build(root, engines[:3], args.jobs)
        print(f"cold build, 3 engines: {three:6.2f} s  (built {_built(summary)})")
        print(f"ratio: {one / three:.2f}x  ({args.chutes} chutes, RUN sleep {args.sleep:g}, "
              f"--jobs {args.jobs} per engine)")  # fmt: skip
        fresh, summary = _build(root, engines[3:], args.jobs)
        statuses = sorted({row["status"] for row in summary["images"]})
        refs = [row["ref"] for row in summary["images"]]
        pulled = _pull_all(engines[3][1], refs)
        print(f"new machine: build {fresh:.2f} s (images {', '.join(statuses)}; built "
              f"{_built(summary)}), then pulled {len(refs)} images in {pulled:.2f} s")
    finally:
        for name, _host in engines:
            subprocess.run([os.path.join(SCRIPTS, "dockerd-extra"), "stop",
                            os.path.join(folder, name)], capture_output=True)  # fmt: skip
        subprocess.run([os.path.join(SCRIPTS, "registry"), "stop", os.path.join(folder, "reg")],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
