"""The runtime stage: the cord server installed once per Python and wheel set, then copied.

Installing the runtime's wheels with pip on top of every chute image made each image
edit pay for a container start and an offline pip install (13 s of a 19 s rebuild for
one added ``RUN`` line). The install is now a stage of its own:

- ``chutes-build/runtime-stage:<stage key>`` is an image ``FROM scratch`` holding only
  ``/opt/chutes-runtime``: ``lib/`` with the wheels of ``_runtime_layer`` installed by
  ``pip install --target --no-index --no-deps`` and compiled to unchecked-hash bytecode
  (valid wherever the files are copied), and ``bin/python``, a launcher that runs the
  image's ``python3`` with ``lib/`` first on ``PYTHONPATH``: the runtime's packages win
  over the image's own, which stay importable by the chute's code. The install runs in
  the first image that needs the stage (its ``python3`` has the version and platform the
  key names); the stage key holds the Python (version, machine, implementation), every
  wheel's digest and the stage's layout, and nothing about that image, so every image
  with the same Python and wheel set shares one stage, built once and recorded in the
  action cache like a layer.
- The runtime layer of a chute image is one ``COPY --from=<stage tag>``: no container
  starts, no pip runs. Its key holds the image's key and the stage key.
"""

from __future__ import annotations

import time

import trio

from ..cache import ActionResult
from ._buildkit import BuildRequest
from ._docker import existing_images
from ._orchestrate import BuildContext, build_logged
from ._runtime_layer import RUNTIME_PREFIX, PythonInfo, runtime_key, stage_key, wheel_digests

__all__ = [
    "LAUNCHER",
    "STAGE_REPO",
    "runtime_key",
    "runtime_request",
    "runtime_stage",
    "stage_key",
    "stage_request",
]

STAGE_REPO = "chutes-build/runtime-stage"
LIB = f"{RUNTIME_PREFIX}/lib"
#: ``bin/python``: the image's python3 with the runtime's packages first.
LAUNCHER = ("#!/bin/sh", f'PYTHONPATH="{LIB}${{PYTHONPATH:+:$PYTHONPATH}}" exec python3 "$@"')
_locks: dict[str, trio.Lock] = {}


def stage_request(
    parent: str, wheels: dict[str, str], tag: str, network: str | None
) -> BuildRequest:
    """The build of a stage: install in ``parent`` (an image with the stage's Python),
    then keep only ``/opt/chutes-runtime`` in an image of its own."""
    names = " ".join(f"/tmp/wheels/{name}" for name in sorted(wheels))
    launcher = " ".join(f"'{line}'" for line in LAUNCHER)
    install = (
        "RUN --mount=type=bind,source=wheels,target=/tmp/wheels "
        f"PIP_CONFIG_FILE=/dev/null python3 -m pip install --quiet --no-index --no-deps "
        f"--no-compile --disable-pip-version-check --no-warn-script-location --target {LIB} "
        f"{names} && python3 -m compileall -q --invalidation-mode unchecked-hash {LIB} && "
        f"mkdir -p {RUNTIME_PREFIX}/bin && printf '%s\\n' {launcher} > {RUNTIME_PREFIX}/bin/python"
        f" && chmod 0755 {RUNTIME_PREFIX}/bin/python"
    )
    copy = f"COPY --from=0 {RUNTIME_PREFIX} {RUNTIME_PREFIX}"
    return BuildRequest(
        parent=parent,
        lines=[install, "FROM scratch", copy],
        tag=tag,
        context={f"wheels/{name}": path for name, path in wheels.items()},
        network=network,
    )


def runtime_request(parent: str, stage: str, tag: str, network: str | None) -> BuildRequest:
    """The runtime layer of ``parent``: the stage ``stage`` (a tag) copied onto it."""
    line = f"COPY --from={stage} {RUNTIME_PREFIX} {RUNTIME_PREFIX}"
    return BuildRequest(parent=parent, lines=[line], tag=tag, network=network)


async def runtime_stage(
    ctx: BuildContext, node: str, parent: str, python: PythonInfo, wheels: dict[str, str]
) -> str:
    """The tag of the stage for ``python`` and ``wheels``, built (in ``parent``, its log
    under ``node``) unless the action cache records it and the engine has it."""
    key = stage_key(python, wheel_digests(wheels))
    tag = f"{STAGE_REPO}:{key}"
    lock = _locks.setdefault(key, trio.Lock())  # images sharing a stage build it once
    async with lock:
        if ctx.store.get_action(key) is not None and await existing_images(ctx.docker, [tag]):
            return tag
        request = stage_request(parent, wheels, tag, ctx.network)
        result, digest, started = await build_logged(ctx, node, key, request)
        outputs = {"tag": tag, "image_id": result.image_id}
        ctx.store.put_action(key, ActionResult(
            kind="runtime-stage", outputs=outputs, logs=(digest,), created=time.time(),
            duration=time.time() - started))  # fmt: skip
    return tag
