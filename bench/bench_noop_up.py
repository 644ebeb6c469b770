"""Benchmark a no-op ``chutes-build up --target local`` against plain ``docker build``.

On the example monorepo, with everything already built and running, measure in one run:

- chutes-build: ``chutes-build up --target local --json`` (a fresh process each time:
  load from the evaluation cache, one ``docker image ls``, one ``docker ps``, no build);
- docker build: ``docker build`` of each buildable chute's Dockerfile, one after the
  other, with every step already in BuildKit's cache: what a user without
  chutes-build pays to learn that nothing changed (and it restarts nothing yet).

Prints both medians and their ratio.

    python bench/bench_noop_up.py [--repeat 5] [--workspace examples]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)


def _cli(workspace: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = proc.stdout[-3000:] + proc.stderr[-3000:]
        sys.exit(f"chutes-build {' '.join(args)} failed:\n{tail}")
    return proc


def _dockerfiles(workspace: str) -> dict[str, str]:
    from chutes_build.cache import MemoryStore
    from chutes_build.graph import compile_workspace
    from chutes_build.workspace._workspace import find_workspace

    graph = compile_workspace(find_workspace(workspace), None, MemoryStore())
    return {graph.node(k)["label"]: graph.dockerfile(k) + "\n" for k in graph.keys("image")}


def _docker_builds(docker: str, dockerfiles: dict[str, str], folder: str) -> float:
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    context = os.path.join(folder, "context")
    os.makedirs(context, exist_ok=True)
    started = time.perf_counter()
    for i, text in enumerate(dockerfiles.values()):
        path = os.path.join(folder, f"{i}.Dockerfile")
        with open(path, "w") as handle:
            handle.write(text)
        subprocess.run(
            [docker, "build", "--network=none", "-q", "-f", path, context],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
    return time.perf_counter() - started


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workspace", default=os.path.join(REPO, "examples"))
    args = parser.parse_args()
    docker = os.environ.get("CHUTES_BUILD_DOCKER") or shutil.which("docker", path="/usr/bin")
    workspace = os.path.abspath(args.workspace)
    print(f"warming up: chutes-build up in {workspace}", file=sys.stderr)
    _cli(workspace, "up", "--target", "local", "--json")
    dockerfiles = _dockerfiles(workspace)
    with tempfile.TemporaryDirectory() as folder:
        _docker_builds(docker, dockerfiles, folder)  # everything into BuildKit's cache
        ours = [
            _timed(lambda: _cli(workspace, "up", "--target", "local", "--json"))
            for _ in range(args.repeat)
        ]
        theirs = [_docker_builds(docker, dockerfiles, folder) for _ in range(args.repeat)]
    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"images: {len(dockerfiles)}; runs: {args.repeat} each (median)")
    print(f"chutes-build up --target local (no-op):   {mine:.3f} s")
    print(f"docker build x{len(dockerfiles)} (all steps cached): {base:.3f} s")
    print(f"ratio: chutes-build is {base / mine:.1f}x faster")


if __name__ == "__main__":
    main()
