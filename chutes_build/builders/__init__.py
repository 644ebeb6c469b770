"""Builders: BuildKit through a docker client, and the local container helpers.

``find_docker`` picks a client that can build with BuildKit; ``build`` runs a chain
of Dockerfile lines as one build; ``existing_images`` asks the engine once which
tags exist; the container helpers serve the local deploy target.
"""

from ._buildkit import BuildRequest, BuildResult, build
from ._containers import (
    ContainerInfo,
    list_containers,
    remove_containers,
    run_container,
    wait_http,
)
from ._docker import DockerClient, docker_command, existing_images, find_docker

__all__ = [
    "BuildRequest",
    "BuildResult",
    "ContainerInfo",
    "DockerClient",
    "build",
    "docker_command",
    "existing_images",
    "find_docker",
    "list_containers",
    "remove_containers",
    "run_container",
    "wait_http",
]
