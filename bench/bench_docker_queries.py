"""Benchmark the queries a no-op ``up`` asks the engine: CLI processes vs the Engine API.

A no-op ``up --target local`` asks the engine two things: which of its tags exist
(one image listing filtered by repository) and which containers the workspace runs
(one container listing by label). This measures that pair, interleaved, through
``DockerClient`` (two ``docker`` processes) and ``ApiDocker`` (two requests to the
engine's socket), on the real engine, and prints both medians and their ratio.

    python bench/bench_docker_queries.py [--repeat 30] [--tags 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import trio

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from chutes_build.engine import ApiDocker, connect_docker, find_docker  # noqa: E402


async def _pair(engine, refs: list[str]) -> float:
    started = time.perf_counter()
    await engine.image_ids(refs)
    await engine.containers({"chutes-build.workspace": "bench"}, ("chutes-build.slot",))
    return time.perf_counter() - started


async def main(repeat: int, tags: int) -> None:
    cli = await find_docker(os.environ.get("CHUTES_BUILD_DOCKER"))
    api = connect_docker(cli)
    if not isinstance(api, ApiDocker):
        sys.exit("the engine has no unix socket here: nothing to compare")
    refs = [f"chutes-build/layer:{n:032x}" for n in range(tags)]
    refs += ["chutes-build/python-base:bookworm"]
    times: dict[str, list[float]] = {"cli": [], "api": []}
    for _ in range(repeat):
        times["cli"].append(await _pair(cli, refs))
        times["api"].append(await _pair(api, refs))
    cli_s, api_s = statistics.median(times["cli"]), statistics.median(times["api"])
    print(f"image listing + container listing, {len(refs)} refs, {repeat} runs each (median)")
    print(f"docker CLI (2 processes): {cli_s * 1000:.1f} ms")
    print(f"Engine API (2 requests):  {api_s * 1000:.1f} ms")
    print(f"ratio: the API is {cli_s / api_s:.1f}x faster")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--tags", type=int, default=60)
    args = parser.parse_args()
    trio.run(main, args.repeat, args.tags)
