"""The engine: one ``run(session, target, options)`` for every target, BuildKit through a
docker client, the local and chutes targets, the scheduler.

``run`` yields typed events (``NodeEvent``, ``LogLine``, ``EngineAssigned``, ``Warm``)
and, last, ``Finished`` with the summary; a ``Target`` (``LocalTarget``,
``ChutesTarget``; ``target_for(name)``) connects, plans ``Work`` (tasks keyed by graph
node, run in the graph itself) and fills its rows of the summary.

``DockerEngine`` is everything the engine asks of Docker (``DockerClient`` through
the CLI, ``ApiDocker`` through the engine's socket, ``testing.FakeDocker`` in memory);
``find_docker`` picks a client that can build with BuildKit; ``build`` runs a chain
of Dockerfile lines as one build; ``existing_images`` asks the engine once which
tags exist; the container helpers serve the local deploy target; ``reload_code``
swaps a running chute's code in place. ``open_pool`` spreads segments over several
engines that share a ``Registry`` as their layer store.
"""

from ..cache import RecordingStore, SharedStats
from ._buildkit import BuildRequest, BuildResult, build
from ._chutes_target import (
    ChutesOptions,
    lookup_keys,
    plan_chutes,
    record_rollback,
    schedule_chutes,
)
from ._clean import clean_tags, unreferenced_tags
from ._container_logs import chute_containers, stream_container_log
from ._containers import ContainerInfo, list_containers, remove_containers, run_container, wait_http
from ._context import SecretInContext, context_files
from ._docker import DockerClient, docker_command, existing_images
from ._docker_api import ApiDocker, api_wanted, connect_docker
from ._docker_socket import engine_socket
from ._find import find_docker
from ._local_target import (
    LocalOptions,
    container_name,
    down_local,
    has_gpu,
    known_runtimes,
    orphans,
    plan_local,
    remove_orphans,
    runtime_tags,
    workspace_containers,
)
from ._options import DryRunStore, RunOptions
from ._orchestrate import (
    FAILED_LOGS,
    BuildContext,
    Segment,
    Task,
    Work,
    image_summary,
    layer_tag,
    plan_work,
    run_work,
    segments,
)
from ._outcomes import OUTCOMES, local_conditions, record_outcomes
from ._pool import Pool, open_configured, open_pool, pool_settings
from ._progress import make_progress
from ._protocol import DockerEngine
from ._registry import Registry, parse_registry
from ._reload import ReloadFailure, ReloadResult, reload_code
from ._run import (
    EngineAssigned,
    Event,
    Finished,
    LogLine,
    NodeEvent,
    Run,
    Session,
    Target,
    Warm,
    cache_summary,
    run,
    shared_cache,
)
from ._runtime_layer import IMAGE_PACKAGES, PythonInfo, package_files, project_wheel
from ._status import local_status
from ._swap import replace_container
from ._targets import (
    ChutesTarget,
    LocalTarget,
    check_runtime,
    chutes_options,
    first_error,
    open_docker,
    target_for,
)
from ._watch import (
    Broken,
    ChuteView,
    CodeReloaded,
    Failed,
    ReloadFailed,
    Served,
    Updated,
    WatchEvent,
    WatchLoop,
    WatchSteps,
    chute_views,
    classify,
)

__all__ = [
    "FAILED_LOGS",
    "IMAGE_PACKAGES",
    "OUTCOMES",
    "ApiDocker",
    "Broken",
    "BuildContext",
    "BuildRequest",
    "BuildResult",
    "ChuteView",
    "ChutesOptions",
    "ChutesTarget",
    "CodeReloaded",
    "ContainerInfo",
    "DockerClient",
    "DockerEngine",
    "DryRunStore",
    "EngineAssigned",
    "Event",
    "Failed",
    "Finished",
    "LocalOptions",
    "LocalTarget",
    "LogLine",
    "NodeEvent",
    "Pool",
    "PythonInfo",
    "RecordingStore",
    "Registry",
    "ReloadFailed",
    "ReloadFailure",
    "ReloadResult",
    "Run",
    "RunOptions",
    "SecretInContext",
    "Segment",
    "Served",
    "Session",
    "SharedStats",
    "Target",
    "Task",
    "Updated",
    "Warm",
    "WatchEvent",
    "WatchLoop",
    "WatchSteps",
    "Work",
    "api_wanted",
    "build",
    "cache_summary",
    "check_runtime",
    "chute_containers",
    "chute_views",
    "chutes_options",
    "classify",
    "clean_tags",
    "connect_docker",
    "container_name",
    "context_files",
    "docker_command",
    "down_local",
    "engine_socket",
    "existing_images",
    "find_docker",
    "first_error",
    "has_gpu",
    "image_summary",
    "known_runtimes",
    "layer_tag",
    "list_containers",
    "local_conditions",
    "local_status",
    "lookup_keys",
    "make_progress",
    "open_configured",
    "open_docker",
    "open_pool",
    "orphans",
    "package_files",
    "parse_registry",
    "plan_chutes",
    "plan_local",
    "plan_work",
    "pool_settings",
    "project_wheel",
    "record_outcomes",
    "record_rollback",
    "reload_code",
    "remove_containers",
    "remove_orphans",
    "replace_container",
    "run",
    "run_container",
    "run_work",
    "runtime_tags",
    "schedule_chutes",
    "segments",
    "shared_cache",
    "stream_container_log",
    "target_for",
    "unreferenced_tags",
    "wait_http",
    "workspace_containers",
]
