"""Render the build graph as one self-contained, interactive HTML page.

``render_html`` is a pure function: node dicts in, one HTML string out. The page
carries its own CSS and JavaScript inlined (the files under ``assets/``, read by
``_html_assets``), embeds the nodes as JSON in a ``<script type="application/json">``
element and makes no network request at all: a Content-Security-Policy with
``default-src 'none'`` forbids it, and only the page's own script (allowed by its
SHA-256 hash) may run, so a hostile label that somehow escaped its string still
could not execute.

The layout (longest-path layering, barycentre ordering), pan/zoom, search, the
detail panel and the collapsing of long layer chains all run in the browser.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._html_assets import CSS, JS

__all__ = ["COLLAPSE_AT", "render_html"]

#: Graphs with more nodes than this start with linear layer chains collapsed.
COLLAPSE_AT = 300

_STATUSES = frozenset({"cached", "dirty", "outcome", "unknown"})

# Characters that could end the <script> element or open an HTML comment inside
# it, plus the two JSON-valid line separators; all become JSON \u escapes.
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <input id="search" type="search" placeholder="Search label, key or chute" autocomplete="off">
  <label class="toggle"><input id="only-matches" type="checkbox"> only matches</label>
  <span id="counts"></span>
  <button id="chains" type="button" hidden></button>
  <button id="fit" type="button">Fit</button>
</header>
<main>
  <svg id="graph" role="img" aria-label="build graph"><g id="viewport"></g></svg>
  <aside id="panel" hidden></aside>
  <div id="legend"></div>
</main>
<script type="application/json" id="graph-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""


def render_html(nodes: list[dict], *, title: str = "chutes-build graph") -> str:
    """Return one self-contained HTML page that draws ``nodes`` as an interactive DAG.

    Each node is a mapping with ``key`` (unique), ``kind``, ``label``, ``deps``
    (keys of its inputs), ``chutes``, ``text``, ``status`` and ``reason``.
    Deps that name no node in ``nodes`` are kept in the data (the panel lists
    them as "not in this graph") but draw no edge.

    Raises ``ValueError`` for a node without a key or for a key given twice:
    both are bugs of the caller, not of the user's chutes.
    """
    plain = [_plain_node(node) for node in nodes]
    _check_unique([node["key"] for node in plain])
    data = {"title": title, "collapse_at": COLLAPSE_AT, "nodes": plain}
    return _PAGE.format(
        csp=_content_security_policy(),  # fixed text and base64: nothing to escape
        title=html.escape(title, quote=True),
        css=CSS,
        data=script_json(data),
        js=JS,
    )


def script_json(value: Any) -> str:
    """Encode ``value`` as JSON that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JSON_ESCAPES)


def _plain_node(node: Mapping[str, Any]) -> dict[str, Any]:
    key = node.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"graph node without a string key: {_short(node)}")
    kind = str(node.get("kind") or "layer")
    status = str(node.get("status", "unknown"))
    return {
        "key": key,
        "kind": kind,
        "label": str(node.get("label") or key[:12]),
        # what a node runs after (its runtime layer, its logo) is drawn as an input too
        "deps": _strings(node.get("deps", ())) + _strings(node.get("after", ())),
        "chutes": _strings(node.get("chutes", ())),
        "text": str(node.get("text", "")),
        "status": status if status in _STATUSES else "unknown",
        "reason": str(node.get("reason", "")),
    }


def _strings(values: Iterable[Any]) -> list[str]:
    if isinstance(values, str):
        return [values]
    return [str(value) for value in values]


def _check_unique(keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"graph node key given twice: {key}")
        seen.add(key)


def _short(node: Mapping[str, Any]) -> str:
    text = repr(dict(node))
    return text if len(text) <= 120 else text[:117] + "..."


def _content_security_policy() -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src '{_sha256(JS)}'",
            f"style-src '{_sha256(CSS)}'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
