"""GPUs on the local target: template chutes run with ``--gpus all`` only on a GPU host.

Template chutes (vLLM, SGLang, embeddings, diffusion, TEI) need a GPU. They run
locally only when ``CHUTES_BUILD_LOCAL_GPU=1`` and ``nvidia-smi -L`` lists a GPU;
otherwise they are built and reported ``needs-gpu``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..graph import DeployNode

__all__ = ["GPU_TEMPLATES", "container_gpus", "has_gpu", "nvidia_devices"]

GPU_TEMPLATES = frozenset({"vllm", "sglang", "embedding", "diffusion", "tei"})


def nvidia_devices() -> list[str]:
    """The lines of ``nvidia-smi -L`` naming a GPU (none when it is missing or fails)."""
    try:
        proc = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    return [line for line in proc.stdout.splitlines() if line.startswith("GPU ")]


def has_gpu(env: dict[str, str], devices: Callable[[], list[str]] = nvidia_devices) -> bool:
    """Whether template chutes may be started here (with ``--gpus all``): off unless
    ``CHUTES_BUILD_LOCAL_GPU=1``, and then only when ``nvidia-smi -L`` lists a GPU."""
    if env.get("CHUTES_BUILD_LOCAL_GPU") != "1":
        return False
    return bool(devices())


def container_gpus(attrs: DeployNode, gpu: bool) -> str | None:
    """``--gpus``' value for a deploy node: ``all`` for a template chute on a GPU host."""
    template = attrs.definition.get("standard_template")
    return "all" if gpu and template in GPU_TEMPLATES else None
