"""``BuildGraph``: the compiled DAG, a thin wrapper over a ``networkx.DiGraph``.

Nodes are keyed by their content key and carry plain attribute dicts (see the
package docstring); an edge ``a -> b`` means ``b`` takes ``a``'s result as an
input. Rendering, planning, explaining and scheduling all read this graph.

The ``DiGraph`` is materialised on first use of :attr:`BuildGraph.nx` and then
shares the very attribute dicts the graph holds: importing networkx costs more
than a warm ``plan`` of a thousand chutes, and ``plan`` needs only the node
dicts and their ``deps``, which the compiler adds in dependency order.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..core import ChutesBuildError, GraphError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["KINDS", "BuildGraph", "no_gc_pauses"]

#: Node kinds in build order.
KINDS = ("base", "layer", "image", "deploy")
_RANK = {kind: i for i, kind in enumerate(KINDS)}


class BuildGraph:
    """The build graph of a set of chute files, plus the files that failed to load."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._attrs: dict[str, dict[str, Any]] = {}
        self._nx: nx.DiGraph | None = None
        self.errors: list[tuple[str, ChutesBuildError]] = []
        #: ``(file, warning)`` for what loading the files warned about.
        self.warnings: list[tuple[str, Any]] = []
        self.imported: list[str] = []

    # -- building ------------------------------------------------------------------------------

    def add(self, key: str, attrs: dict[str, Any], deps: tuple[str, ...] = ()) -> dict[str, Any]:
        """Add node ``key`` (once) with edges from its ``deps``; return its attribute dict.

        Each of ``deps`` must already be in the graph, so insertion order is a build order.
        """
        node = self._attrs.get(key)
        if node is None:
            for dep in deps:
                if dep not in self._attrs:
                    raise GraphError(f"node {key[:12]} depends on unknown node {dep[:12]}")
            node = {"key": key, "deps": list(deps), "chutes": [], **attrs}
            self._attrs[key] = node
            if self._nx is not None:
                self._link(key)
        return node

    def _link(self, key: str) -> None:
        self._nx.add_node(key, **self._attrs[key])
        self._attrs[key] = self._nx.nodes[key]
        for dep in self._attrs[key]["deps"]:
            self._nx.add_edge(dep, key)

    @property
    def nx(self) -> nx.DiGraph:
        """The graph as a ``networkx.DiGraph`` (node attributes are this graph's dicts)."""
        if self._nx is None:
            import networkx

            self._nx = networkx.DiGraph()
            for key in self._attrs:
                self._link(key)
        return self._nx

    # -- reading ---------------------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return key in self._attrs

    def __len__(self) -> int:
        return len(self._attrs)

    def node(self, key: str) -> dict[str, Any]:
        return self._attrs[key]

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter(self._attrs.items())

    def keys(self, kind: str | None = None) -> list[str]:
        """Node keys in build order: by kind (base, layer, image, deploy), then as compiled."""
        keys = sorted(self._attrs, key=lambda k: _RANK.get(self._attrs[k]["kind"], 9))
        return [k for k in keys if kind is None or self._attrs[k]["kind"] == kind]

    def dependants(self, key: str) -> list[str]:
        """Keys of the nodes that take ``key`` as an input."""
        if self._nx is not None:
            return list(self._nx.successors(key))
        return [k for k, attrs in self._attrs.items() if key in attrs["deps"]]

    def nodes(self, kind: str | None = None) -> Iterator[dict[str, Any]]:
        for key in self.keys(kind):
            yield self._attrs[key]

    def slots(self) -> dict[str, list[str]]:
        """Where each node sits, stable across edits: ``deploy:user/name``,
        ``image:user/name:tag`` and ``layer:user/name:tag#depth`` (base = depth 0)."""
        found: dict[str, list[str]] = {}
        for key, attrs in self._attrs.items():
            if attrs["kind"] == "deploy":
                found.setdefault(key, []).append(attrs["slot"])
            elif attrs["kind"] == "image":
                found.setdefault(key, []).append(attrs["slot"])
                label = attrs["label"]
                for depth, layer in enumerate(self.chain(key)):
                    found.setdefault(layer, []).append(f"layer:{label}#{depth}")
        return found

    def chain(self, image_key: str) -> list[str]:
        """The keys from an image's base to its last layer (the image node excluded)."""
        keys, key = [], self.node(image_key)["top"]
        while key is not None:
            keys.append(key)
            key = self._attrs[key].get("parent")
        return keys[::-1]

    def dockerfile(self, image_key: str) -> str:
        """The Dockerfile that builds an image from its base, with context-relative paths."""
        return "\n".join(self._attrs[k]["line"] for k in self.chain(image_key))

    def find(self, query: str) -> list[str]:
        """Keys of nodes matching ``query``: a key or key prefix, a chute name,
        an image ``name:tag`` / ``user/name:tag``, or ``file.py:attr``."""
        hits = [k for k in self._attrs if k.startswith(query)] if len(query) >= 4 else []
        if hits:
            return hits
        found = []
        for key, attrs in self._attrs.items():
            names = attrs.get("names", ())
            if query in names or attrs.get("label") == query:
                found.append(key)
        return sorted(found, key=lambda k: _RANK.get(self._attrs[k]["kind"], 9))

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
            f"{self._attrs[k]['kind']} {self._attrs[k]['label']} ({k[:12]})" for k in hits[:5]
        )
        raise GraphError(
            f"{query!r} matches {len(hits)} nodes: {labels}", fix="use a longer key prefix"
        )


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Hold the cycle collector while tens of thousands of acyclic dicts are made: its
    passes over a large heap cost two thirds of compiling 4,000 chutes (measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
