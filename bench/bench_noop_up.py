"""Benchmark a no-op ``chutes-build up --target local`` or ``build`` against ``docker build``.

On the example monorepo (or ``--chutes N`` generated chutes on the local Python
base), with everything already built and running, measure in one run, interleaved:

- chutes-build: ``chutes-build up --target local --json`` (or ``build --json``; a
  fresh process each time: load from the caches, ask the engine what exists, no build);
- docker build: ``docker build`` of each buildable chute's Dockerfile, one after the
  other, with every step already in BuildKit's cache: what a user without
  chutes-build pays to learn that nothing changed (and it restarts nothing yet);
- python -c pass: the interpreter's own start-up, the floor of any command.

A no-op run is answered by its no-op record (``chutes_build.noop``: the paths and
the engine's answers its last run depended on, checked before chutes-build is
imported); ``--settled-too`` also times the settled check alone
(``CHUTES_BUILD_NOOP_RECORD=0``: the workspace loaded, one Engine API query, no
engine import) and ``--full-too`` the full run (``CHUTES_BUILD_SETTLED=0``).

Prints the medians and the ratio. Our package is byte-compiled first, as an
installed wheel is (the machine's ``PYTHONDONTWRITEBYTECODE`` would otherwise
make every run compile it from source).

    python bench/bench_noop_up.py [--repeat 5] [--workspace examples] [--command up|build]
    python bench/bench_noop_up.py --chutes 50 --command build [--settled-too] [--full-too]
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


CHUTE = """\
from chutes_build import Chute, Image

image = (
    Image(username="bench", name="noop-{i:03d}", tag="1")
    .from_base("parachutes/python:3.12")
    .with_env("SHARED", "1")
    .run_command("echo {i} > /chute-id")
)
chute = Chute(username="bench", name="noop-{i:03d}", image=image)


@chute.cord(public_api_path="/echo")
async def echo(self, text: str) -> str:
    return text
"""

PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
base-images = { "parachutes/python:3.12" = "chutes-build/python-base:bookworm" }
"""


def generate(root: str, chutes: int) -> str:
    """A workspace of ``chutes`` small chutes sharing their first layers."""
    os.makedirs(os.path.join(root, "chutes"), exist_ok=True)
    with open(os.path.join(root, "pyproject.toml"), "w") as handle:
        handle.write(PYPROJECT)
    for i in range(chutes):
        with open(os.path.join(root, "chutes", f"c{i:03d}.py"), "w") as handle:
            handle.write(CHUTE.format(i=i))
    return root


def _cli(
    workspace: str, *args: str, api: str = "", settled: str = "", record: str = ""
) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"CHUTES_BUILD_DOCKER_API": api} if api else {}),
           **({"CHUTES_BUILD_SETTLED": settled} if settled else {}),
           **({"CHUTES_BUILD_NOOP_RECORD": record} if record else {})}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=env,
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
    return {graph.node(k).label: graph.dockerfile(k) + "\n" for k in graph.keys("image")}


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
    parser.add_argument("--chutes", type=int, default=0, help="generate N chutes instead")
    parser.add_argument("--command", choices=("up", "build"), default="up")
    parser.add_argument("--cli-too", action="store_true",
                        help="also time the command with CHUTES_BUILD_DOCKER_API=0 (interleaved)")
    parser.add_argument("--settled-too", action="store_true",
                        help="also time the settled check alone, CHUTES_BUILD_NOOP_RECORD=0")
    parser.add_argument("--full-too", action="store_true",
                        help="also time the full run, CHUTES_BUILD_SETTLED=0 (interleaved)")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(REPO, "chutes_build")],
                   check=True, capture_output=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        workspace = os.path.abspath(args.workspace)
        if args.chutes:
            workspace = generate(os.path.join(folder, "ws"), args.chutes)
        measure(workspace, folder, args)


def measure(workspace: str, folder: str, args: argparse.Namespace) -> None:
    docker = os.environ.get("CHUTES_BUILD_DOCKER") or shutil.which("docker", path="/usr/bin")
    command = ["up", "--target", "local", "--json"] if args.command == "up" else ["build", "--json"]
    print(f"warming up: chutes-build {' '.join(command)} in {workspace}", file=sys.stderr)
    _cli(workspace, *command)
    dockerfiles = _dockerfiles(workspace)
    _docker_builds(docker, dockerfiles, folder)  # everything into BuildKit's cache
    time.sleep(1.1)  # a run is recorded when nothing it read changed within a second
    _cli(workspace, *command)
    ours, theirs, floor, cli, full, settled = [], [], [], [], [], []
    for _ in range(args.repeat):  # interleaved, so a change of load hits both sides
        ours.append(_timed(lambda: _cli(workspace, *command)))
        theirs.append(_docker_builds(docker, dockerfiles, folder))
        floor.append(_timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)))
        if args.cli_too:
            cli.append(_timed(lambda: _cli(workspace, *command, api="0")))
        if args.settled_too:
            settled.append(_timed(lambda: _cli(workspace, *command, record="0")))
        if args.full_too:
            full.append(_timed(lambda: _cli(workspace, *command, settled="0")))
    mine, base, start = (statistics.median(v) for v in (ours, theirs, floor))
    print(f"images: {len(dockerfiles)}; runs: {args.repeat} each (median)")
    print(f"chutes-build {' '.join(command[:-1])} (no-op, its record):   {mine:.3f} s")
    print(f"docker build x{len(dockerfiles)} (all steps cached): {base:.3f} s")
    print(f"python -c pass (start-up floor): {start:.3f} s")
    print(f"ratio: chutes-build is {base / mine:.1f}x faster")
    if cli:
        queried = statistics.median(cli)
        print(f"the same with CHUTES_BUILD_DOCKER_API=0 (queries by CLI): {queried:.3f} s")
        print(f"ratio: with the Engine API it is {queried / mine:.2f}x faster")
    if settled:
        check = statistics.median(settled)
        print(f"the same with CHUTES_BUILD_NOOP_RECORD=0 (the settled check): {check:.3f} s")
        print(f"ratio: the record is {check / mine:.2f}x faster; the settled check is "
              f"{base / check:.1f}x faster than docker build")
    if full:
        whole = statistics.median(full)
        print(f"the same with CHUTES_BUILD_SETTLED=0 (the full run): {whole:.3f} s")
        print(f"ratio: the record is {whole / mine:.2f}x faster; the full run is "
              f"{base / whole:.1f}x faster than docker build")


if __name__ == "__main__":
    main()
