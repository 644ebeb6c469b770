"""Time the runtime step of a rebuilt image: a pip install per image against the stage.

An image edit gives a chute a new image, and its runtime layer is built again on top.
In one run, on the same wheels (this checkout's runtime set), for each of ``--repeat``
fresh edits of a Python base image (an untimed ``RUN echo <nonce>`` on top of it):

- before: the runtime layer as every image built it, ``RUN --mount=<wheels> python3 -m
  venv /opt/chutes-runtime && pip install --no-index --no-deps <wheels>``;
- now: ``COPY --from=chutes-build/runtime-stage:<key>``, the stage built once beforehand
  (its build time is printed, not counted);
- the whole runtime step as the local target runs it now: the Python probe of the new
  image (``docker run``, once per image id), the wheel set and its digests, the stage
  lookup and the copy.

Then it checks that the runtime starts from the copied stage, and prints medians and the
ratio. Needs the Docker engine (``scripts/docker-up``) and the Python base image
(``scripts/base-images python``); the wheels are downloaded once into ``--cache-dir``.

    python bench/bench_runtime_stage.py [--repeat 5] [--base chutes-build/python-base:bookworm]
        [--production] [--sdk fastapi,pydantic]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

import trio

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from chutes_build.cache import MemoryStore  # noqa: E402
from chutes_build.engine import BuildRequest, build, docker_command, find_docker  # noqa: E402
from chutes_build.engine._runtime_layer import (  # noqa: E402
    RUNTIME_PREFIX,
    probe_python,
    runtime_wheels,
    wheel_digests,
)
from chutes_build.engine._runtime_stage import (  # noqa: E402
    STAGE_REPO,
    runtime_request,
    stage_key,
    stage_request,
)

TAG = "chutes-build/bench-runtime"


def old_request(parent: str, wheels: dict[str, str], tag: str) -> BuildRequest:
    """The runtime layer as it was built on every image before the stage."""
    names = " ".join(f"/tmp/wheels/{name}" for name in sorted(wheels))
    line = (
        "RUN --mount=type=bind,source=wheels,target=/tmp/wheels "
        f"python3 -m venv --without-pip {RUNTIME_PREFIX} && "
        f"python3 -m pip --python {RUNTIME_PREFIX}/bin/python install --quiet --no-index "
        f"--no-deps --disable-pip-version-check {names}"
    )
    context = {f"wheels/{name}": path for name, path in wheels.items()}
    return BuildRequest(parent=parent, lines=[line], tag=tag, context=context, network="none")


async def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    value = await work
    return time.perf_counter() - started, value


async def edited(docker, base: str) -> tuple[str, str]:
    """A new image: ``base`` plus one ``RUN`` line that no build has seen (untimed)."""
    tag = f"{TAG}:edit-{uuid.uuid4().hex[:12]}"
    line = f"RUN echo {uuid.uuid4().hex} > /edited"
    result = await build(docker, BuildRequest(parent=base, lines=[line], tag=tag, network="none"))
    return tag, result.image_id


async def wheel_set(args: argparse.Namespace, python) -> dict[str, str]:
    sdk = tuple(sorted(filter(None, args.sdk.split(","))))
    return await runtime_wheels(args.cache_dir, python, args.production, sdk)


async def step_now(docker, store, args, top: str, image_id: str, stage: str, tag: str):
    """The runtime step as the local target runs it: probe, wheels, stage lookup, copy."""
    from chutes_build.engine import existing_images

    python = await probe_python(docker, top, image_id, store)
    wheels = await wheel_set(args, python)
    wheel_digests(wheels)
    assert await existing_images(docker, [stage])
    await build(docker, runtime_request(top, stage, tag, "none"))


async def main(args: argparse.Namespace) -> None:
    docker = await find_docker(os.environ.get("CHUTES_BUILD_DOCKER"))
    store, made = MemoryStore(), []
    first, first_id = await edited(docker, args.base)
    made.append(first)
    python = await probe_python(docker, first, first_id, store)
    wheels = await wheel_set(args, python)
    stage = f"{STAGE_REPO}:{stage_key(python, wheel_digests(wheels))}"
    stage_s, _ = await timed(build(docker, stage_request(first, wheels, stage, "none")))
    made.append(stage)
    before, now, whole, probes = [], [], [], []
    for i in range(args.repeat):
        top, image_id = await edited(docker, args.base)
        old_tag, new_tag, step_tag = (f"{TAG}:{what}-{i}" for what in ("old", "new", "step"))
        made += [top, old_tag, new_tag, step_tag]
        before.append((await timed(build(docker, old_request(top, wheels, old_tag))))[0])
        now.append((await timed(build(docker, runtime_request(top, stage, new_tag, "none"))))[0])
        fresh, fresh_id = await edited(docker, args.base)
        made.append(fresh)
        probes.append((await timed(probe_python(docker, fresh, fresh_id, MemoryStore())))[0])
        step = step_now(docker, store, args, fresh, fresh_id, stage, step_tag)
        whole.append((await timed(step))[0])
    probe = ["run", "--rm", "--network=none", new_tag, f"{RUNTIME_PREFIX}/bin/python", "-c",
             "import chutes_runtime, msgspec, starlette, uvicorn; print(chutes_runtime.__file__)"]
    where = await docker_command(docker, probe)  # fmt: skip
    await docker_command(docker, ["rmi", "--force", *made])
    report(args, python, len(wheels), stage_s, before, now, whole, probes, where.strip())


def report(args, python, count, stage_s, before, now, whole, probes, where) -> None:
    old, new, step = statistics.median(before), statistics.median(now), statistics.median(whole)
    sets = "dev" + (" + production" if args.production else "")
    sets += f" + {args.sdk}" if args.sdk else ""
    print(f"Python {python.version} {python.machine}, {count} wheels ({sets}), {args.repeat} edits")
    print(f"stage, built once (not counted):           {stage_s:7.3f} s")
    print(f"before: pip install on each edited image:  {old:7.3f} s  (median)")
    print(f"now:    COPY --from the stage:              {new:7.3f} s  (median)")
    print(f"now:    whole step (probe, wheels, copy):   {step:7.3f} s  (median; probe alone "
          f"{statistics.median(probes):.3f} s)")  # fmt: skip
    print(f"ratio:  the copy is {old / new:.1f}x faster; the whole step {old / step:.1f}x")
    print(f"served from: {where}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--base", default="chutes-build/python-base:bookworm")
    cache = os.path.join(tempfile.gettempdir(), "chutes-build-bench-cache")
    parser.add_argument("--cache-dir", default=cache, help="where the wheels are kept")
    parser.add_argument("--production", action="store_true", help="production mode's wheels too")
    parser.add_argument("--sdk", default="", help="sdk extra packages too, e.g. fastapi,pydantic")
    trio.run(main, parser.parse_args())
