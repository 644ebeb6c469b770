"""Plan and explain: which nodes are dirty, and why (like ``ninja -d explain``).

A node is cached when the action cache holds a result for its key that
reads back verified (as the builders read it), else dirty; a damaged entry is
dirty with the reason "corrupt entry". A deploy node a target settled without
running it (``needs-gpu``: a template chute on a machine without a GPU;
``prebuilt``: a prebuilt image reference the local target cannot run) has the
status ``outcome``: the target records it under :func:`outcome_key`, the node's key
plus the conditions the outcome holds under (the target, whether a GPU is usable),
so it stops holding as soon as the inputs or the conditions change. A runtime node's
result is recorded the same way (:func:`runtime_result_key`: its key plus dev or
production mode), since what it is built from besides its image is resolved when it is
built. Nodes a target does not use are left out of its plan: the local target uploads
no logo, the chutes target builds no runtime layer (its platform builds the image).
To say *why*, the builder records each graph it ran
(:func:`record_run`); the planner finds the node that held the same place
last time (the same chute, the same image, the same layer depth) and
compares their inputs one by one.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

import msgspec

from ..cache import Store, scope_id, verified_actions
from ._compile import inputs_of
from ._graph import BuildGraph, no_gc_pauses
from ._keys import node_key
from ._nodes import NodeKind

__all__ = [
    "InputChange",
    "NodePlan",
    "Plan",
    "RecordedGraph",
    "explain",
    "last_run",
    "outcome_key",
    "plan",
    "record_run",
    "result_key",
    "runtime_result_key",
    "used_by",
]

_VERSION = 1
#: The plan status of a node whose target recorded an outcome instead of running it.
OUTCOME = "outcome"
_STATUSES = ("cached", "dirty", OUTCOME)
_UPSTREAM = {"parent": "layer", "top": "layer", "image": "image"}
_NAMES = {"ref": "base image", "image_ref": "prebuilt image"}


class RecordedNode(msgspec.Struct, array_like=True):
    kind: str
    label: str
    inputs: dict[str, str]


class RecordedGraph(msgspec.Struct, kw_only=True):
    """The graph of the last run, reduced to what explaining needs."""

    version: int
    root: str
    nodes: dict[str, RecordedNode]
    slots: dict[str, str]


class InputChange(msgspec.Struct, kw_only=True):
    name: str
    status: str  # unchanged | changed | added | removed
    old: str | None = None
    new: str | None = None
    message: str = ""


class NodePlan(msgspec.Struct, kw_only=True):
    key: str
    kind: str
    label: str
    status: str  # cached | dirty | outcome (| unused, from explain only)
    reason: str
    reasons: list[str]
    chutes: list[str]
    outcome: str | None = None  # needs-gpu | prebuilt, with status "outcome"


class Plan(msgspec.Struct, kw_only=True):
    nodes: list[NodePlan]

    @property
    def summary(self) -> dict[str, Any]:
        by_kind: dict[str, dict[str, int]] = {}
        for node in self.nodes:
            counts = by_kind.setdefault(node.kind, {"cached": 0, "dirty": 0})
            counts[node.status] = counts.get(node.status, 0) + 1
        count = {status: sum(n.status == status for n in self.nodes) for status in _STATUSES}
        chutes = sorted({n.label for n in self.nodes if n.kind == "deploy" and n.status == "dirty"})
        outcomes = {n.label: n.outcome for n in self.nodes
                    if n.status == OUTCOME and n.kind == "deploy"}  # fmt: skip
        return {
            "nodes": len(self.nodes),
            "dirty": count["dirty"],
            "cached": count["cached"],
            "outcomes": count[OUTCOME],
            "by_kind": by_kind,
            "dirty_chutes": chutes,
            "chute_outcomes": dict(sorted(outcomes.items())),
        }

    def by_key(self) -> dict[str, NodePlan]:
        return {n.key: n for n in self.nodes}


# -- recording ----------------------------------------------------------------------


def outcome_key(key: str, conditions: Mapping[str, Any]) -> str:
    """Where a target records the outcome of node ``key`` under ``conditions`` (e.g.
    ``{"target": "local", "gpu": False}``): another input or condition is another key."""
    return node_key("outcome", dict(conditions), (key,))


def runtime_result_key(key: str, production: bool) -> str:
    """Where the local target records runtime node ``key``'s result in dev or production
    mode."""
    return outcome_key(key, {"target": "local", "runtime": "production" if production else "dev"})


def result_key(node: NodeKind, production: bool = False) -> str:
    """Where the local target records ``node``'s result: under its key, or for a runtime
    node under :func:`runtime_result_key`."""
    if node.kind == "runtime":
        return runtime_result_key(node.key, production)
    return node.key


def used_by(kind: str, target: str) -> bool:
    """Whether a target (``local`` or ``chutes``) runs nodes of ``kind``."""
    return kind != ("logo" if target == "local" else "runtime")


def _target(conditions: Mapping[str, Any] | None) -> str:
    return str((conditions or {}).get("target", "local"))


def last_run(store: Store, root: str) -> RecordedGraph | None:
    """The graph last recorded for the workspace at ``root``, if any."""
    recorded = store.load_struct("graph", scope_id(root), RecordedGraph)
    if recorded is None or recorded.version != _VERSION:
        return None
    return recorded


def record_run(store: Store, graph: BuildGraph) -> None:
    """Remember ``graph`` as the last run (merged with earlier runs over other chutes)."""
    previous = last_run(store, graph.root)
    slots = dict(previous.slots) if previous else {}
    nodes = dict(previous.nodes) if previous else {}
    rerun = tuple(f"layer:{n.label}#" for _, n in graph.items() if n.kind == "image")
    slots = {slot: key for slot, key in slots.items() if not slot.startswith(rerun)}
    for key, places in graph.slots().items():
        for slot in places:
            slots[slot] = key
    for key, node in graph.items():
        nodes[key] = RecordedNode(node.kind, node.label, inputs_of(node))
    live = set(slots.values())
    nodes = {k: v for k, v in nodes.items() if k in live}
    record = RecordedGraph(version=_VERSION, root=graph.root, nodes=nodes, slots=slots)
    if record != previous:  # a run that changed nothing writes (and fsyncs) nothing
        store.save_struct("graph", scope_id(graph.root), record)


# -- explaining ----------------------------------------------------------------------


class _Explainer:
    """Finds each node's counterpart in the last recorded run and says what differs."""

    def __init__(self, graph: BuildGraph, store: Store) -> None:
        self.graph, self.store = graph, store
        self._recorded: RecordedGraph | None | bool = False
        self._slots: dict[str, list[str]] | None = None
        self._images: dict[str, str] = {}
        self._old: dict[str, tuple[list[str], list[str | None]]] = {}

    @property
    def recorded(self) -> RecordedGraph | None:
        """The last run, read on first need: a plan with nothing dirty never reads it."""
        if self._recorded is False:
            self._recorded = last_run(self.store, self.graph.root)
        return self._recorded

    def slots(self, key: str) -> list[str]:
        if self._slots is None:
            self._slots = self.graph.slots()
            self._images = {n.slot[6:]: k for k, n in self.graph.items() if n.kind == "image"}
        return self._slots.get(key, [])

    def _old_chain(self, image: str) -> tuple[list[str], list[str | None]]:
        """The last run's chain of ``image`` (keys, base first) and its lines, once per image."""
        if image not in self._old:
            chain, slots = [], self.recorded.slots
            while (key := slots.get(f"layer:{image}#{len(chain)}")) is not None:
                chain.append(key)
            self._old[image] = chain, [self._line(k) for k in chain]
        return self._old[image]

    def _line(self, key: str) -> str | None:
        node = self.recorded.nodes.get(key)
        if node is None:
            return None
        ref = node.inputs.get("ref")
        return node.inputs.get("line") or (f"FROM {ref}" if ref is not None else None)

    def previous(self, attrs: NodeKind) -> tuple[str | None, str]:
        """``(key of the counterpart, "")``, or ``(None, why there is none)``."""
        if self.recorded is None:
            return None, "never built"
        for slot in self.slots(attrs.key):
            if not slot.startswith("layer:"):
                if slot in self.recorded.slots and self.recorded.slots[slot] in self.recorded.nodes:
                    return self.recorded.slots[slot], ""
                continue
            image, _, depth = slot[6:].rpartition("#")
            found = self._layer(attrs, image, int(depth))
            if found != (None, ""):
                return found
        return None, "never built"

    def _layer(self, attrs: NodeKind, image: str, depth: int) -> tuple[str | None, str]:
        old, lines = self._old_chain(image)
        if not old:
            return None, ""
        line = getattr(attrs, "line", None)
        if depth < len(old) and lines[depth] == line:
            return old[depth], ""
        same = [i for i, old_line in enumerate(lines) if old_line == line]
        if same:
            return old[min(same, key=lambda i: abs(i - depth))], ""
        current = {self.graph.step(k).line for k in self.graph.chain(self._images[image])}
        if depth >= len(old) or lines[depth] in current:
            return None, f"new directive {line!r}"
        return old[depth], ""

    def changes(self, previous: str, attrs: NodeKind) -> list[InputChange]:
        """``attrs``' inputs compared one by one with those of ``previous`` in the last run."""
        nodes = self.recorded.nodes
        return compare(nodes[previous].inputs, inputs_of(attrs), self.graph, nodes)

    def reasons(self, attrs: NodeKind) -> list[str]:
        previous, why = self.previous(attrs)
        if previous is None:
            return [why]
        if previous == attrs.key:
            return [
                "not in the action cache (last build failed or was interrupted, "
                "or the entry was evicted)"
            ]
        changes = [c for c in self.changes(previous, attrs) if c.status != "unchanged"]
        own = [c.message for c in changes if c.name not in _UPSTREAM]
        upstream = [c.message for c in changes if c.name in _UPSTREAM]
        return own + upstream or ["its key changed with no input change (a new key format)"]


def _opaque(value: str | None) -> bool:
    return value is not None and (value.startswith("digest:") or len(value) > 60)


def _message(
    name: str, status: str, old: str | None, new: str | None, graph: BuildGraph, known: Container
) -> str:
    if name in _UPSTREAM and new in graph:
        node = graph.node(new)
        if new in known:  # an unchanged node: the step below was removed or moved
            where = f"{node.kind} {node.label!r}"
            return f"now built on {where} (a directive below was removed or moved)"
        return f"upstream {node.kind} {node.label!r} changed"
    prefix, _, rest = name.partition(":")
    if prefix in ("file", "code"):
        return f"{rest} {status}"
    if prefix == "cord":
        return f"cord {rest} {status}"
    if name == "line" and status == "changed":
        return f"directive changed: {old!r} -> {new!r}"
    what = _NAMES.get(name) or (rest or name).replace("_", " ")
    if status != "changed" or _opaque(old) or _opaque(new):
        return f"{what} {status}"
    return f"{what} changed: {old} -> {new}"


def _status(before: str | None, after: str | None) -> str:
    if before == after:
        return "unchanged"
    return "added" if before is None else "removed" if after is None else "changed"


def compare(
    old: dict[str, str], new: dict[str, str], graph: BuildGraph, known: Container = ()
) -> list[InputChange]:
    """Input-by-input comparison of a node's previous and current inputs;
    ``known`` holds the keys of the last run's nodes."""
    changes = []
    for name in list(new) + [n for n in old if n not in new]:
        before, after = old.get(name), new.get(name)
        status = _status(before, after)
        message = (
            "" if status == "unchanged" else _message(name, status, before, after, graph, known)
        )
        changes.append(
            InputChange(name=name, status=status, old=before, new=after, message=message)
        )
    return changes


def explain(
    graph: BuildGraph, key: str, store: Store, conditions: Mapping[str, Any] | None = None
) -> tuple[NodePlan, list[InputChange]]:
    """One node's status and its inputs, each compared with the last recorded run
    (``conditions``: as for :func:`plan`)."""
    explainer = _Explainer(graph, store)
    attrs = graph.node(key)
    previous, why = explainer.previous(attrs)
    if previous is None:
        changes = [
            InputChange(name=n, status="added", new=v, message=why)
            for n, v in inputs_of(attrs).items()
        ]
    else:
        changes = explainer.changes(previous, attrs)
    return _node_plan(attrs, store, explainer, conditions), changes


def _recorded_outcome(
    attrs: NodeKind, store: Store, conditions: Mapping[str, Any] | None
) -> tuple[str, str] | None:
    """``(outcome, note)`` a target recorded for this deploy (or runtime) node under
    ``conditions``."""
    if conditions is None or attrs.kind not in ("deploy", "runtime"):
        return None
    held = {name: conditions[name] for name in ("target", "gpu") if name in conditions}
    result, _why = store.read_action(outcome_key(attrs.key, held), touch=False)
    if result is None or "outcome" not in result.outputs:
        return None
    return result.outputs["outcome"], result.outputs.get("note", "")


def _node_plan(
    attrs: NodeKind,
    store: Store,
    explainer: _Explainer,
    conditions: Mapping[str, Any] | None = None,
    verified: Container[str] = (),
) -> NodePlan:
    """``verified``: result keys the batched check found verified (not read again)."""
    if not used_by(attrs.kind, _target(conditions)):
        why = f"not used by the {_target(conditions)} target"
        return NodePlan(key=attrs.key, kind=attrs.kind, label=attrs.label, status="unused",
                        reason=why, reasons=[why], chutes=list(attrs.chutes))  # fmt: skip
    key = result_key(attrs, bool((conditions or {}).get("production")))
    # otherwise read and verified, as `up` reads it
    result, why = (True, "") if key in verified else store.read_action(key, touch=False)
    store.count("ac", result is not None)
    cached, settled = result is not None, None
    if not cached and not why:
        settled = _recorded_outcome(attrs, store, conditions)
    reasons = [f"corrupt entry ({why}): it is rebuilt"] if why else []
    if settled is not None:
        reasons = [f"{settled[0]}: {settled[1]}" if settled[1] else settled[0]]
    reasons = reasons or ([] if cached else explainer.reasons(attrs))
    status = "cached" if cached else OUTCOME if settled else "dirty"
    return NodePlan(
        key=attrs.key,
        kind=attrs.kind,
        label=attrs.label,
        status=status,
        reason="; ".join(reasons),
        reasons=reasons,
        chutes=list(attrs.chutes),
        outcome=settled[0] if settled else None,
    )


def plan(graph: BuildGraph, store: Store, conditions: Mapping[str, Any] | None = None) -> Plan:
    """Every node of ``graph`` in build order, cached, dirty or settled by an outcome, with
    the reason; ``conditions`` (the target and what it depends on, e.g. ``{"target": "local",
    "gpu": False, "production": False}``) selects the outcomes and runtime results that
    hold (None: no outcome is read, the runtime in dev mode)."""
    explainer, target = _Explainer(graph, store), _target(conditions)
    production = bool((conditions or {}).get("production"))
    with no_gc_pauses():
        used = [attrs for attrs in graph.nodes() if used_by(attrs.kind, target)]
        keys = [result_key(attrs, production) for attrs in used]
        verified = verified_actions(store, keys, scope_id(graph.root))
        nodes = [_node_plan(attrs, store, explainer, conditions, verified) for attrs in used]
    return Plan(nodes=nodes)
