"""Builders: BuildKit through a docker client, the local and chutes targets, the shared cache.

``find_docker`` picks a client that can build with BuildKit; ``build`` runs a chain
of Dockerfile lines as one build; ``existing_images`` asks the engine once which
tags exist; the container helpers serve the local deploy target.
"""

from ._buildkit import BuildRequest, BuildResult, build
from ._chutes_target import ChutesOptions, plan_chutes, schedule_chutes
from ._containers import (
    ContainerInfo,
    list_containers,
    remove_containers,
    run_container,
    wait_http,
)
from ._context import SecretInContext, context_files
from ._docker import DockerClient, docker_command, existing_images, find_docker
from ._local_target import LocalOptions, container_name, down_local, has_gpu
from ._orchestrate import (
    BuildContext,
    Segment,
    Work,
    image_summary,
    layer_tag,
    plan_work,
    run_work,
    segments,
)
from ._progress import make_progress
from ._runtime_layer import PythonInfo, project_wheel
from ._shared_cache import RecordingStore, SharedStats

__all__ = [
    "BuildContext",
    "BuildRequest",
    "BuildResult",
    "ChutesOptions",
    "ContainerInfo",
    "DockerClient",
    "LocalOptions",
    "PythonInfo",
    "RecordingStore",
    "SecretInContext",
    "Segment",
    "SharedStats",
    "Work",
    "build",
    "container_name",
    "context_files",
    "docker_command",
    "down_local",
    "existing_images",
    "find_docker",
    "has_gpu",
    "image_summary",
    "layer_tag",
    "list_containers",
    "make_progress",
    "plan_chutes",
    "plan_work",
    "project_wheel",
    "remove_containers",
    "run_container",
    "run_work",
    "schedule_chutes",
    "segments",
    "wait_http",
]
