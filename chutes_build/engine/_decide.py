"""The local target's decisions, as sync functions both runs call.

The full run (``plan_work``, ``plan_local``) and the settled check (``_settled``) ask
the same questions of the same data: is this layer's tag usable, is this image
fresh, does this container run this chute, which runtime layer does this image
resolve to. Each is answered here once, from the action cache, the store and what
the engine listed, with nothing but the standard library and msgspec imported, so
the settled check runs before trio, httpx and networkx are loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._gpus import GPU_TEMPLATES
from ._local_ids import L_DEPLOY, L_PORT, L_RUNTIME, containers_by_slot
from ._protocol import ContainerInfo, normal_ref

__all__ = [
    "LAYER_REPO",
    "RUNTIME_REPO",
    "chute_row",
    "container_info",
    "container_matches",
    "held_ports",
    "image_fresh",
    "image_ref",
    "image_refs",
    "image_row",
    "known_runtime",
    "layer_tag",
    "layer_usable",
    "orphans",
    "probe_name",
    "recorded",
    "runtime_keys",
    "slot_of",
    "top_ref",
]

LAYER_REPO = "chutes-build/layer"
RUNTIME_REPO = "chutes-build/runtime"


def layer_tag(key: str) -> str:
    return f"{LAYER_REPO}:{key}"


def top_ref(graph, image_key: str) -> str:
    """The reference of an image's top: its last layer's tag, or the base's own reference
    for an image that is only ``from_base(...)`` (no layer of its own to tag)."""
    top = graph.node(graph.node(image_key).top)
    return top.ref if top.kind == "base" else layer_tag(graph.node(image_key).top)


def image_ref(attrs: Any) -> str:
    """The local tag of an image node: ``name:tag``, as the SDK's local build tags it."""
    return f"{attrs.name}:{attrs.tag}"


def image_row(attrs: Any, layer: str, status: str) -> dict[str, Any]:
    """An image's row of a run's summary: built on ``layer`` (its top's reference)."""
    return {"key": attrs.key, "image": attrs.label, "chutes": attrs.chutes,
            "ref": image_ref(attrs), "layer": layer, "status": status}  # fmt: skip


def chute_row(attrs: Any, port: int, gpu: bool) -> dict[str, Any]:
    """A chute's row of ``up``'s summary: ``state`` ``prebuilt`` or ``needs-gpu`` when the
    local target cannot run it here, else ``None`` (decided by the run)."""
    row = {"chute": attrs.chute, "key": attrs.key, "image": attrs.image_ref,
           "url": f"http://127.0.0.1:{port}", "state": None}  # fmt: skip
    template = attrs.definition.get("standard_template")
    if attrs.image is None:
        row.update(state="prebuilt", url=None,
                   note="prebuilt image reference: not built or run locally")  # fmt: skip
    elif template in GPU_TEMPLATES and not gpu:
        row.update(state="needs-gpu", url=None,
                   note=f"{template} template: needs a GPU to run")  # fmt: skip
    return row


def recorded(store, key: str) -> bool:
    """A verified result exists for ``key``: a damaged entry is no record (so the chute is
    adopted or redeployed and recorded again, and ``plan`` agrees afterwards)."""
    return store.get_action(key) is not None


def layer_usable(result: Any, existing: Mapping[str, str]) -> bool:
    """Whether a cached result's tag exists in the engine with the image id it recorded."""
    if result is None or "tag" not in result.outputs:
        return False
    found = existing.get(result.outputs["tag"])
    return found is not None and found == result.outputs.get("image_id", found)


def image_fresh(result: Any, existing: Mapping[str, str], ref: str, top: str) -> bool:
    """Whether an image node's tag ``ref`` is usable and still names its top ``top``."""
    return layer_usable(result, existing) and existing.get(ref) == existing.get(top)


def container_matches(info: Any, name: str, key: str, runtime: str | None, port: int) -> bool:
    """Whether container ``info`` runs deploy key ``key`` on ``runtime`` at ``port``."""
    labels = info.labels
    return (
        info.state == "running"
        and info.name == name
        and labels.get(L_DEPLOY) == key
        and labels.get(L_RUNTIME) == runtime
        and labels.get(L_PORT) == str(port)
    )


def image_refs(rows: list[dict[str, Any]], refs: list[str]) -> dict[str, str]:
    """``{ref: image id}`` for the ``refs`` found in an engine's image listing ``rows``."""
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        wanted.setdefault(normal_ref(ref), []).append(ref)
    found: dict[str, str] = {}
    for image in rows:
        for tag in image.get("RepoTags") or ():
            for ref in wanted.get(normal_ref(tag), ()):
                found[ref] = image["Id"]
    return found


def known_runtime(
    store, graph, image: str, memo: dict[tuple, dict[str, str]],
    wheels: Callable[[Any, tuple[str, ...]], dict[str, str]],
) -> str | None:  # fmt: skip
    """The runtime layer's key ``image`` resolves to when it can be told without the
    engine (its Python probe is recorded); ``wheels(python, sdk)`` gives the wheel set."""
    from ._runtime_layer import PythonInfo, runtime_key, wheel_digests
    from ._runtime_pins import sdk_packages

    top = store.get_action(graph.node(image).top)
    image_id = top.outputs.get("image_id", "") if top else ""
    python = store.load_struct("python-probe", image_id.rpartition(":")[2][:64] or "-",
                               PythonInfo)  # fmt: skip
    if python is None:
        return None
    sdk = sdk_packages(graph, image)
    if (python.tag, sdk) not in memo:
        memo[python.tag, sdk] = wheel_digests(wheels(python, sdk))
    return runtime_key(image, python, memo[python.tag, sdk])


def probe_name(builder: str | None, env: Mapping[str, str] = os.environ) -> str:
    """Under which name the docker client found for ``builder`` is recorded."""
    from ..cache import blob_digest

    seen = f"{env.get('CHUTES_BUILD_DOCKER')}|{builder}|{env.get('PATH')}"
    return blob_digest(seen.encode())


def container_info(row: dict[str, Any], keys: Sequence[str]) -> ContainerInfo:
    """A container of the engine's listing (``GET /containers/json``); with ``keys``, only
    those labels."""
    labels = row.get("Labels") or {}
    if keys:
        labels = {key: labels[key] for key in keys if labels.get(key)}
    names = row.get("Names") or [""]
    return ContainerInfo(id=row["Id"], name=names[0].lstrip("/"), image=row.get("Image", ""),
                         state=row.get("State", ""), labels=dict(labels))  # fmt: skip


def slot_of(attrs: Any) -> str:
    """``username/name``: a deploy node's identity in the workspace (its deploy slot)."""
    return attrs.slot.removeprefix("deploy:")


def held_ports(nodes: Iterable[Any], by_slot: dict[str, list]) -> dict[str, int | None]:
    """The port each chute's one running container listens on (``None``: not labelled)."""
    held: dict[str, int | None] = {}
    for attrs in nodes:
        running = [c for c in by_slot.get(slot_of(attrs), []) if c.state == "running"]
        if len(running) == 1:
            port = running[0].labels.get(L_PORT, "")
            held[attrs.slot] = int(port) if port.isdigit() else None
    return held


def orphans(root: str, graph, containers: list) -> list:
    """This workspace's containers whose chute is no longer in ``graph`` (a full ``up``
    removes them: the chute was deleted or renamed)."""
    wanted = {slot_of(attrs): attrs.chute for attrs in graph.nodes("deploy")}
    by_slot = containers_by_slot(containers, wanted)
    return [c for slot, found in by_slot.items() if slot not in wanted for c in found]


def runtime_keys(
    store, graph, cache_dir: str, production: bool, deploy_keys: list[str]
) -> dict[str, str | None]:
    """``{image key: runtime key}`` (``None`` where its Python probe is not recorded) of
    the images of ``deploy_keys``; the wheels are fetched into ``cache_dir`` once."""
    found: dict[str, str | None] = {}
    memo: dict[tuple, dict[str, str]] = {}

    def wheels(python, sdk):
        from ._runtime_layer import collect_wheels

        return collect_wheels(cache_dir, python, production, sdk)

    for key in deploy_keys:
        image = graph.node(key).image
        if image is not None and image not in found:
            found[image] = known_runtime(store, graph, image, memo, wheels)
    return found
