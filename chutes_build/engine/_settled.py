"""The settled check: whether a ``build`` or ``up --target local`` has anything to do,
told before the engine's run (and trio, httpx, networkx) is loaded.

It reads what the full run reads (the action cache, the recorded docker probe, the
Python probes, the cached runtime wheels, the port assignments) and asks the engine
once over its unix socket with the standard library: the images of the tags the plan
names and, for ``up``, the workspace's containers (two requests on one connection).
It answers with the decisions the full run makes (``_decide``): the summary and the
cached nodes the full run would report, or ``None`` the moment anything may need
work or anything is unusual (a pool, a buildx builder, a remote cache, ``--force``,
``--no-cache``, ``--dry-run``, no recorded docker probe, an engine not reached over
a unix socket, a damaged entry, a listing that does not parse...). ``None`` is
always safe: the full run then decides. ``CHUTES_BUILD_SETTLED=0`` turns it off.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .. import noop
from ..noop import Miss, ask_engine, get_request
from ._decide import (
    RUNTIME_REPO,
    chute_row,
    container_info,
    container_matches,
    held_ports,
    image_fresh,
    image_ref,
    image_refs,
    image_row,
    layer_usable,
    orphans,
    probe_name,
    recorded,
    runtime_keys,
    slot_of,
    top_ref,
)
from ._docker_socket import api_wanted, engine_socket
from ._gpus import has_gpu
from ._local_ids import L_WORKSPACE, LABEL_KEYS, container_name, containers_by_slot
from ._options import runtime_production
from ._outcomes import record_outcomes
from ._ports import settle_ports

__all__ = ["Settled", "settled_run"]


class _Unsettled(Exception):
    """Something may need work, or is unusual: the full run decides."""


@dataclass
class Settled:
    """A run with nothing to do: its summary and the nodes it reports cached
    (``(node id, label)``, in the full run's order)."""

    summary: dict[str, Any]
    cached: list[tuple[str, str]] = field(default_factory=list)


def settled_run(session, options, env: Mapping[str, str] = os.environ) -> Settled | None:
    """:class:`Settled` when ``options``' run over ``session`` would run nothing, else
    ``None`` (the full run decides)."""
    try:
        socket_path = _gate(session, options, env)
        return _check(session, options, env, socket_path)
    except (_Unsettled, OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _gate(session, options, env: Mapping[str, str]) -> str:
    """The engine's socket, when nothing about the run rules the check out."""
    config = session.workspace.config
    unusual = (
        env.get("CHUTES_BUILD_SETTLED") == "0", options.target != "local", options.dry_run,
        options.force, options.no_cache, options.warm, bool(options.builder),
        bool(options.registry or env.get("CHUTES_BUILD_REGISTRY") or config.registry),
        bool(options.builders or env.get("CHUTES_BUILD_BUILDERS") or config.builders),
        bool(config.remote_cache or env.get("CHUTES_BUILD_REMOTE_CACHE")),
        bool(session.graph.errors), not api_wanted(env),
    )  # fmt: skip
    if any(unusual):
        raise _Unsettled
    known = session.store.load_struct("docker-client", probe_name(None, env), list[str])
    if not known or not os.access(known[0], os.X_OK):
        raise _Unsettled  # the full run finds (and records) the client
    path = engine_socket({**env, "DOCKER_BUILDKIT": "1"})
    if path is None:
        raise _Unsettled
    return path


# -- the engine, over its socket ---------------------------------------------------------------


def _listings(path: str, repos: list[str], labels: list[str] | None):
    """The images of ``repos`` and (``labels`` given) the containers carrying them: two
    connections, so the engine answers both at once."""
    query = urlencode({"filters": json.dumps({"reference": repos})})
    requests = [get_request("/images/json", query)]
    if labels is not None:
        query = urlencode({"all": "1", "filters": json.dumps({"label": labels})})
        requests.append(get_request("/containers/json", query))
    try:
        bodies = ask_engine(path, requests)
    except Miss:
        raise _Unsettled from None
    noop.engine_answered(path, requests, bodies)
    answers = [json.loads(body) for body in bodies]
    return answers[0] if repos else [], answers[1] if labels is not None else None


# -- the decisions ------------------------------------------------------------------------------


@dataclass
class _Plan:
    session: Any
    options: Any
    env: Mapping[str, str]
    existing: dict[str, str] = field(default_factory=dict)
    cached: list[tuple[str, str]] = field(default_factory=list)


def _check(session, options, env: Mapping[str, str], path: str) -> Settled:
    graph, store = session.graph, session.store
    plan = _Plan(session, options, env)
    images = graph.keys("image")
    chains = {image: graph.chain(image) for image in images}
    results = {key: store.get_action(key) for chain in chains.values() for key in chain}
    results.update({image: store.get_action(image) for image in images})
    refs = {r.outputs["tag"] for r in results.values() if r is not None and "tag" in r.outputs}
    refs |= {graph.node(k).ref for chain in chains.values() for k in chain
             if graph.node(k).kind == "base"}  # fmt: skip
    known = _runtimes(session, options) if options.deploy else {}
    refs |= {f"{RUNTIME_REPO}:{key}" for key in known.values() if key}
    wanted = sorted(refs)
    labels = [f"{L_WORKSPACE}={_scope(graph.root)}"] if options.deploy else None
    repos = sorted({ref.rsplit(":", 1)[0] for ref in _normal(wanted)})
    listed, containers = _listings(path, repos, labels)
    plan.existing = image_refs(listed, wanted)
    rows = [_image_row(plan, image, chains[image], results) for image in images]
    summary: dict[str, Any] = {"failed": [], "images": rows}
    if options.deploy:
        found = [container_info(row, LABEL_KEYS) for row in containers]
        summary["chutes"] = _chute_rows(plan, known, found)
    return Settled(summary, plan.cached)


def _normal(refs: list[str]) -> list[str]:
    from ._protocol import normal_ref

    return [normal_ref(ref) for ref in refs]


def _scope(root: str) -> str:
    from ..cache import scope_id

    return scope_id(root)


def _image_row(plan: _Plan, image: str, chain: list[str], results: dict) -> dict[str, Any]:
    """The image's summary row when it and every layer it needs are usable as they are."""
    graph, store, existing = plan.session.graph, plan.session.store, plan.existing
    base = graph.node(chain[0])
    if base.ref not in existing or not store.has_action(chain[0]):
        raise _Unsettled  # a missing base fails the run; a new one gets recorded
    attrs = graph.node(image)
    layer = top_ref(graph, image)
    if graph.node(attrs.top).kind == "layer" and not layer_usable(results.get(attrs.top),
                                                                 existing):  # fmt: skip
        raise _Unsettled
    if not image_fresh(results.get(image), existing, image_ref(attrs), layer):
        raise _Unsettled
    plan.cached.append((f"{attrs.kind}:{image}", f"image {attrs.label}"))
    return image_row(attrs, layer, "cached")


def _runtimes(session, options) -> dict[str, str | None]:
    store, graph = session.store, session.graph
    production = runtime_production(options.runtime, session.workspace)
    return runtime_keys(store, graph, store.location, production, graph.keys("deploy"))


def _ports(store, root: str, slots: list[str], base: int, held) -> dict[str, int]:
    """The ports the full run would assign; a move or a new assignment is work."""
    known = store.load_struct("ports", _scope(root), dict[str, int]) or {}
    before = dict(known)
    if settle_ports(known, slots, base, held) or known != before:
        raise _Unsettled
    return known


def _chute_rows(plan: _Plan, known: dict[str, str | None], containers: list) -> list[dict]:
    """Each chute's row when every one is unchanged, needs a GPU or is prebuilt."""
    session, graph, store = plan.session, plan.session.graph, plan.session.store
    gpu, root = has_gpu(dict(plan.env)), graph.root
    nodes = {key: graph.node(key) for key in graph.keys("deploy")}
    by_slot = containers_by_slot(containers, {slot_of(a): a.chute for a in nodes.values()})
    ports = _ports(store, root, [a.slot for a in nodes.values()],
                   session.workspace.config.port_base, held_ports(nodes.values(), by_slot))
    production, seen, rows = runtime_production(plan.options.runtime, session.workspace), set(), []
    for key, attrs in nodes.items():
        row = chute_row(attrs, ports[attrs.slot], gpu)
        if row["state"] is None:
            runtime = _runtime_cached(plan, attrs.image, known.get(attrs.image), production, seen)
            old = by_slot.get(slot_of(attrs), [])
            name = container_name(root, slot_of(attrs))
            if not (len(old) == 1 and container_matches(old[0], name, key, runtime,
                                                         ports[attrs.slot])
                    and recorded(store, key)):  # fmt: skip
                raise _Unsettled
            row["state"] = "unchanged"
        rows.append(row)
    if plan.options.full and orphans(root, graph, containers):
        raise _Unsettled  # a full run removes them
    record_outcomes(store, rows, gpu, graph)  # as the full run's finish does
    return rows


def _runtime_cached(plan: _Plan, image: str, runtime: str | None, production: bool,
                    seen: set[str]) -> str:  # fmt: skip
    """The runtime layer ``image`` runs from, when its tag and records are all there."""
    from ..graph import runtime_key, runtime_result_key

    graph, store = plan.session.graph, plan.session.store
    if runtime is None or f"{RUNTIME_REPO}:{runtime}" not in plan.existing:
        raise _Unsettled
    if image in seen:
        return runtime
    rkey = runtime_key(image)
    if not recorded(store, runtime) or not recorded(store, runtime_result_key(rkey, production)):
        raise _Unsettled
    seen.add(image)
    plan.cached.append((f"{graph.node(rkey).kind}:{rkey}",
                        f"runtime layer {graph.node(image).label}"))  # fmt: skip
    return runtime
