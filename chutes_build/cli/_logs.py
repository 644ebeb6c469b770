"""``logs``: a running local chute's container log (``-f`` follows it), or with ``--build``
the stored build logs of its image, each headed by the Dockerfile steps it built."""

from __future__ import annotations

import codecs
import sys

import typer
from rich.markup import escape

from ..core import DeployError, GraphError
from ..workspace import find_workspace, no_match_error
from ._common import PATHS, complete_names, console

FOLLOW = typer.Option(False, "--follow", "-f", help="Keep printing new output until Ctrl-C.")
TAIL = typer.Option(None, "--tail", "-n", min=0, help="Only the last N lines of the log.")
BUILD = typer.Option(
    False, "--build", help="The stored build logs of the chute's image instead, step by step."
)


def logs(
    chute: str = typer.Argument(
        ..., metavar="CHUTE", autocompletion=complete_names,
        help="A chute name (with --build also an image name:tag, file.py:attr or key prefix).",
    ),
    paths: list[str] = PATHS,
    follow: bool = FOLLOW,
    tail: int = TAIL,
    build: bool = BUILD,
) -> None:  # fmt: skip
    """Show a local chute's container log (-f follows it), or its build logs (--build)."""
    if build:
        return build_logs(chute, paths)
    if paths:
        raise DeployError(
            "PATHS select what --build reads; a container's log is found by its chute name",
            fix=f"use `chutes-build logs {chute}` or `chutes-build logs --build {chute} PATHS`",
            file="<command line>",
        )
    container_logs(chute, follow, tail)


def container_logs(chute: str, follow: bool, tail: int | None) -> None:
    import trio

    from ..engine import chute_containers, stream_container_log
    from ..engine import open_docker as _docker

    workspace = find_workspace(None)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write(chunk: bytes) -> None:
        sys.stdout.write(decoder.decode(chunk))
        sys.stdout.flush()

    async def run() -> None:
        docker = await _docker(None, True)
        found = await chute_containers(docker, workspace.root)
        if not found.get(chute):
            raise _not_running(chute, found, workspace)
        await stream_container_log(docker, found[chute][0].name, write, tail=tail, follow=follow)

    try:
        trio.run(run)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a follow ends
    except BaseExceptionGroup as group:
        interrupted, rest = group.split(KeyboardInterrupt)
        if interrupted is None or rest is not None:
            raise
    sys.stdout.write(decoder.decode(b"", final=True))


def _not_running(chute: str, found: dict, workspace) -> Exception:
    from ..graph import known_chute_names
    from ._graph import open_store

    with open_store(workspace) as store:
        known = known_chute_names(store, workspace.root) if workspace.pyproject else []
    if chute in known:
        return DeployError(
            f"chute {chute!r} has no container here",
            fix=f"start it with `chutes-build up {chute}`; its build logs: "
            f"`chutes-build logs --build {chute}`",
            file="<command line>",
        )
    names = [*found, *known]
    fix = no_match_error(chute, names).fix if names else "start its chutes with `chutes-build up`"
    return DeployError(f"no chute named {chute!r} runs here", fix=fix, file="<command line>")


def build_logs(target: str, paths: list[str] | None) -> None:
    """The stored build log(s) of a node, or of every layer of a chute's image."""
    from ._build import _session

    session = _session(paths)
    graph, store = session.graph, session.store
    with store:
        key = graph.resolve(target)
        attrs = graph.node(key)
        image = attrs.image if attrs.kind == "deploy" else key
        is_image = bool(image) and graph.node(image).kind == "image"
        keys = graph.chain(image) if is_image else [key]
        deployed = store.get_action(key) if attrs.kind == "deploy" else None
        runtime = deployed.outputs.get("runtime") if deployed else None
        shown = _show(graph, store, image if is_image else None, [*keys, key], runtime)
    if not shown:
        raise GraphError(
            f"no build log is stored for {attrs.kind} {attrs.label}",
            fix="build it first (`chutes-build build`); cached layers from a cleared "
            "cache have no log",
        )


def _logs_of(store, key: str) -> list[str]:
    from ..engine import FAILED_LOGS

    result = store.get_action(key)
    if result is not None and result.logs:
        return list(result.logs)
    failed = store.get_record(FAILED_LOGS, key)
    return [failed.decode()] if failed else []


def _show(graph, store, image: str | None, keys: list[str], runtime: str | None) -> int:
    """Print each stored log once, headed by the steps (Dockerfile lines) it built."""
    steps = graph.chain(image) if image else []
    by_log: dict[str, list[str]] = {}
    for key in dict.fromkeys(keys):
        for digest in _logs_of(store, key):
            by_log.setdefault(digest, []).append(key)
    if runtime:
        for digest in _logs_of(store, runtime):
            by_log.setdefault(digest, [])
    for digest, built in by_log.items():
        data = store.get_blob(digest)
        if data is None:
            continue
        console.rule(_title(graph, image, built, steps), align="left")
        for key in built:
            node = graph.node(key)
            where = f"step {steps.index(key) + 1}/{len(steps)}" if key in steps else node.kind
            console.print(f"  {where}: {escape(getattr(node, 'line', None) or node.label)}",
                          soft_wrap=True)  # fmt: skip
        console.print(escape(data.decode(errors="replace")), soft_wrap=True)
    return len(by_log)


def _title(graph, image: str | None, built: list[str], steps: list[str]) -> str:
    name = escape(graph.node(image).label) if image else "this node"
    if not built:
        return f"runtime layer of {name}"
    at = sorted(steps.index(key) + 1 for key in built if key in steps)
    if not at:
        return f"build of {name}"
    span = f"step {at[0]}" if len(at) == 1 else f"steps {at[0]}-{at[-1]}"
    return f"build of {name}: {span} of {len(steps)}"


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)
