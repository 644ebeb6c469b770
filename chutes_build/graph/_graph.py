"""``BuildGraph``: the compiled DAG of typed nodes, a thin wrapper over a ``networkx.DiGraph``.

Nodes are the frozen structs of ``_nodes`` (one per kind), keyed by their content key;
an edge ``a -> b`` means ``b`` takes ``a``'s result as an input. Rendering, planning,
explaining and scheduling all read this graph.

The ``DiGraph`` is materialised on first use of :attr:`BuildGraph.nx` (each networkx
node carries its struct as ``node``): importing networkx costs more than a warm
``plan`` of a thousand chutes, and ``plan`` needs only the nodes and their ``deps``,
which the compiler adds in dependency order.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec

from ..core import ChutesBuildError, GraphError
from ._nodes import BaseNode, DeployNode, ImageNode, LayerNode, LogoNode, NodeKind, RuntimeNode

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["KINDS", "BuildGraph", "no_gc_pauses"]

#: Node kinds in build order.
KINDS = ("base", "layer", "logo", "image", "runtime", "deploy")
_RANK = {kind: i for i, kind in enumerate(KINDS)}


class BuildGraph:
    """The build graph of a set of chute files, plus the files that failed to load."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._nodes: dict[str, NodeKind] = {}
        self._nx: nx.DiGraph | None = None
        self.errors: list[tuple[str, ChutesBuildError]] = []
        #: ``(file, warning)`` for what loading the files warned about.
        self.warnings: list[tuple[str, Any]] = []
        self.imported: list[str] = []

    # -- building ------------------------------------------------------------------------------

    def add(self, node: NodeKind) -> NodeKind:
        """Add ``node`` (once: the first node of a key stays); return the graph's node.

        Each of ``node.deps`` must already be in the graph, so insertion order is a build
        order."""
        found = self._nodes.get(node.key)
        if found is None:
            for dep in (*node.deps, *node.after):
                if dep not in self._nodes:
                    raise GraphError(f"node {node.key[:12]} depends on unknown node {dep[:12]}")
            found = self._nodes[node.key] = node
            if self._nx is not None:
                self._link(node.key)
        return found

    def set_chutes(self, key: str, chutes: list[str]) -> None:
        """Record which chutes use node ``key`` (known once every chute is compiled)."""
        self._nodes[key] = msgspec.structs.replace(self._nodes[key], chutes=tuple(chutes))
        if self._nx is not None:
            self._nx.nodes[key]["node"] = self._nodes[key]

    def _link(self, key: str) -> None:
        node = self._nodes[key]
        self._nx.add_node(key, node=node)
        for dep in (*node.deps, *node.after):
            self._nx.add_edge(dep, key)

    @property
    def nx(self) -> nx.DiGraph:
        """The graph as a ``networkx.DiGraph`` (each node's struct is its ``node`` attribute)."""
        if self._nx is None:
            import networkx

            self._nx = networkx.DiGraph()
            for key in self._nodes:
                self._link(key)
        return self._nx

    # -- reading ---------------------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def node(self, key: str) -> NodeKind:
        return self._nodes[key]

    def step(self, key: str) -> BaseNode | LayerNode:
        """The node ``key`` of an image's chain (a base or a layer)."""
        node = self._nodes[key]
        if not isinstance(node, BaseNode | LayerNode):
            raise GraphError(f"node {key[:12]} is not a base or layer node but {node.kind}")
        return node

    def image(self, key: str) -> ImageNode:
        node = self._nodes[key]
        if not isinstance(node, ImageNode):
            raise GraphError(f"node {key[:12]} is not an image node but {node.kind}")
        return node

    def deploy(self, key: str) -> DeployNode:
        node = self._nodes[key]
        if not isinstance(node, DeployNode):
            raise GraphError(f"node {key[:12]} is not a deploy node but {node.kind}")
        return node

    def items(self) -> Iterator[tuple[str, NodeKind]]:
        return iter(self._nodes.items())

    def keys(self, kind: str | None = None) -> list[str]:
        """Node keys in build order: by kind (base, layer, image, deploy), then as compiled."""
        keys = sorted(self._nodes, key=lambda k: _RANK.get(self._nodes[k].kind, 9))
        return [k for k in keys if kind is None or self._nodes[k].kind == kind]

    def dependants(self, key: str) -> list[str]:
        """Keys of the nodes that take ``key`` as an input."""
        if self._nx is not None:
            return list(self._nx.successors(key))
        return [k for k, node in self._nodes.items() if key in node.deps or key in node.after]

    def nodes(self, kind: str | None = None) -> Iterator[NodeKind]:
        for key in self.keys(kind):
            yield self._nodes[key]

    def slots(self) -> dict[str, list[str]]:
        """Where each node sits, stable across edits: ``deploy:user/name``,
        ``image:user/name:tag``, ``runtime:user/name:tag``, ``logo:path`` and
        ``layer:user/name:tag#depth`` (base = depth 0)."""
        found: dict[str, list[str]] = {}
        for key, node in self._nodes.items():
            if isinstance(node, DeployNode | RuntimeNode | LogoNode):
                found.setdefault(key, []).append(node.slot)
            elif isinstance(node, ImageNode):
                found.setdefault(key, []).append(node.slot)
                for depth, layer in enumerate(self.chain(key)):
                    found.setdefault(layer, []).append(f"layer:{node.label}#{depth}")
        return found

    def chain(self, image_key: str) -> list[str]:
        """The keys from an image's base to its last layer (the image node excluded)."""
        keys: list[str] = []
        key: str | None = self.image(image_key).top
        while key is not None:
            keys.append(key)
            key = self.step(key).parent
        return keys[::-1]

    def dockerfile(self, image_key: str) -> str:
        """The Dockerfile that builds an image from its base, with context-relative paths."""
        return "\n".join(self.step(k).line for k in self.chain(image_key))

    def find(self, query: str) -> list[str]:
        """Keys of nodes matching ``query``: a key or key prefix, a chute name,
        an image ``name:tag`` / ``user/name:tag``, or ``file.py:attr``."""
        hits = [k for k in self._nodes if k.startswith(query)] if len(query) >= 4 else []
        if hits:
            return hits
        found = [k for k, node in self._nodes.items() if query in node.names or node.label == query]
        return sorted(found, key=lambda k: _RANK.get(self._nodes[k].kind, 9))

    def resolve(self, query: str) -> str:
        """The one node ``query`` names, or a :class:`GraphError` saying what matched."""
        hits = self.find(query)
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise GraphError(
                f"no node or chute matches {query!r}",
                fix="give a chute name, an image name:tag, file.py:attr or a key prefix "
                "(see `chutes-build graph`)",
            )
        labels = ", ".join(
            f"{self._nodes[k].kind} {self._nodes[k].label} ({k[:12]})" for k in hits[:5]
        )
        raise GraphError(
            f"{query!r} matches {len(hits)} nodes: {labels}", fix="use a longer key prefix"
        )


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Hold the cycle collector while tens of thousands of acyclic nodes are made: its
    passes over a large heap cost two thirds of compiling 4,000 chutes (measured).

    On leaving, what was made is moved out of the collector's sight (``gc.freeze``): else
    its next full pass walks all of it again (a third of a warm ``plan``, measured). The
    next entry hands those objects back (``gc.unfreeze``), so a long-lived process still
    collects whatever cycles they held once they are garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    if was_enabled:
        gc.unfreeze()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
