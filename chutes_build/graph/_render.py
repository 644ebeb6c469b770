"""Render the build graph: tree, dot, mermaid, json and html.

Every renderer reads the same node dicts (:func:`node_dicts`): the graph's
attributes plus, when a plan is given, each node's status and reason.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from ..core import GraphError
from ._graph import BuildGraph
from ._plan import Plan

__all__ = ["FORMATS", "node_dicts", "render"]

FORMATS = ("tree", "dot", "mermaid", "json", "html")
_SKIP = ("inputs", "slots", "names")
#: An outcome (``needs-gpu``, ``prebuilt``) is neither cached nor dirty: its own colour.
_TREE_COLORS = {"cached": "green", "dirty": "yellow", "outcome": "blue"}


def node_dicts(graph: BuildGraph, plan: Plan | None = None) -> list[dict[str, Any]]:
    """One plain dict per node, in build order: key, kind, label, deps, chutes, text,
    status, reason and the kind's own attributes."""
    status = plan.by_key() if plan else {}
    nodes = []
    for attrs in graph.nodes():
        entry = status.get(attrs.key)
        plain = msgspec.to_builtins(attrs)
        node = {
            "key": attrs.key,
            "kind": attrs.kind,
            "label": attrs.label,
            "deps": list(attrs.deps),
            "after": list(attrs.after),
            "chutes": list(attrs.chutes),
            "text": attrs.text,
            "status": entry.status if entry else "unknown",
            "reason": entry.reason if entry else "",
            "outcome": entry.outcome if entry else None,
        }
        node.update((k, v) for k, v in plain.items() if k not in node and k not in _SKIP)
        nodes.append(node)
    return nodes


def _mark(node: dict[str, Any]) -> str:
    if node["status"] == "unknown":
        return ""
    color = _TREE_COLORS.get(node["status"], "yellow")
    text = f"  [{color}]{node['outcome'] or node['status']}[/]"
    return text + (f"  [dim]{node['reason']}[/]" if node["reason"] else "")


def _tree(graph: BuildGraph, nodes: list[dict[str, Any]]) -> str:
    """Per chute: its deploy node, image and layers from the base up (rich markup)."""
    from rich.markup import escape

    by_key = {n["key"]: n for n in nodes}
    lines = []
    for deploy in (n for n in nodes if n["kind"] == "deploy"):
        lines.append(
            f"[bold]{escape(deploy['label'])}[/]  ({escape(deploy['file'])}:{deploy['attr']})  "
            f"[dim]{deploy['key'][:12]}[/]{_mark(deploy)}"
        )
        if not deploy["image"]:
            lines.append(f"└── prebuilt image {escape(deploy['image_ref'])}")
            continue
        image = by_key[deploy["image"]]
        lines.append(
            f"└── image {escape(image['label'])}  [dim]{image['key'][:12]}[/]{_mark(image)}"
        )
        chain = graph.chain(image["key"])
        for i, key in enumerate(chain):
            layer = by_key[key]
            branch = "└──" if i == len(chain) - 1 else "├──"
            shared = (
                f"  [cyan](shared by {len(layer['chutes'])})[/]" if len(layer["chutes"]) > 1 else ""
            )
            lines.append(
                f"    {branch} {escape(layer['label'])}  [dim]{key[:12]}[/]{shared}{_mark(layer)}"
            )
    return "\n".join(lines)


def _quote(text: str) -> str:
    return json.dumps(text)


def _dot(nodes: list[dict[str, Any]]) -> str:
    shapes = {"base": "cylinder", "layer": "box", "image": "box3d", "deploy": "component",
              "runtime": "box3d", "logo": "note"}  # fmt: skip
    colors = {"cached": "palegreen", "dirty": "khaki", "outcome": "lightblue", "unknown": "white"}
    lines = [
        "digraph chutes_build {",
        "  rankdir=BT;",
        "  node [style=filled, fontname=monospace];",
    ]
    for n in nodes:
        lines.append(
            f"  {_quote(n['key'])} [label={_quote(n['kind'] + ': ' + n['label'])}, "
            f"shape={shapes.get(n['kind'], 'box')}, fillcolor={colors[n['status']]}];"
        )
    for n in nodes:
        lines.extend(f"  {_quote(dep)} -> {_quote(n['key'])};" for dep in n["deps"])
        lines.extend(f"  {_quote(dep)} -> {_quote(n['key'])} [style=dashed];" for dep in n["after"])
    return "\n".join([*lines, "}"])


def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "#quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _mermaid(nodes: list[dict[str, Any]]) -> str:
    shapes = {"base": ("[(", ")]"), "image": ("[[", "]]"), "deploy": ("{{", "}}")}
    ids: dict[str, str] = {}
    lines = ["flowchart BT"]
    for n in nodes:
        left, right = shapes.get(n["kind"], ("[", "]"))
        ids[n["key"]] = f"n{n['key'][:16]}"
        label = _mermaid_text(f"{n['kind']}: {n['label']}")
        lines.append(f'  {ids[n["key"]]}{left}"{label}"{right}')
    for n in nodes:
        lines.extend(f"  {ids[dep]} --> {ids[n['key']]}" for dep in n["deps"])
        lines.extend(f"  {ids[dep]} -.-> {ids[n['key']]}" for dep in n["after"])
    fills = {"cached": "#c8f7c5", "dirty": "#fbe7a1", "outcome": "#bfdbfe"}
    for status, fill in fills.items():
        members = [ids[n["key"]] for n in nodes if n["status"] == status]
        if members:
            lines.append(f"  classDef {status} fill:{fill}")
            lines.append(f"  class {','.join(members)} {status}")
    return "\n".join(lines)


def render(
    graph: BuildGraph, fmt: str, plan: Plan | None = None, title: str = "chutes-build graph"
) -> str:
    """The graph in format ``fmt`` (one of :data:`FORMATS`); ``tree`` uses rich markup."""
    nodes = node_dicts(graph, plan)
    if fmt == "json":
        return json.dumps({"nodes": nodes, "summary": plan.summary if plan else None}, indent=2)
    if fmt == "tree":
        return _tree(graph, nodes)
    if fmt == "dot":
        return _dot(nodes)
    if fmt == "mermaid":
        return _mermaid(nodes)
    if fmt == "html":
        from ._html import render_html

        return render_html(nodes, title=title)
    raise GraphError(f"unknown graph format {fmt!r}", fix=f"use one of: {', '.join(FORMATS)}")
