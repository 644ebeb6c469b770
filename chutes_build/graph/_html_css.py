"""Stylesheet of the HTML graph view (see ``_html.render_html``).

Node fill colours follow the node kind (``.kind-*``), borders follow the cache
status (``.st-*``); the legend reuses both classes for its swatches.
"""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
:root { color-scheme: light; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  --ink: #0f172a; --muted: #64748b; --line: #cbd5e1; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; color: var(--ink); background: #f8fafc; }
body { display: flex; flex-direction: column; }
header { display: flex; gap: 10px; align-items: center; padding: 8px 14px;
  background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 15px; margin: 0 8px 0 0; white-space: nowrap; }
#search { flex: 0 1 320px; padding: 5px 9px; border: 1px solid var(--line); border-radius: 6px;
  font: inherit; }
#counts { color: var(--muted); margin-left: auto; white-space: nowrap; }
.toggle { color: var(--muted); white-space: nowrap; }
button { font: inherit; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; cursor: pointer; }
button:hover { background: #f1f5f9; }
main { position: relative; flex: 1; overflow: hidden; }
#graph { width: 100%; height: 100%; display: block; cursor: grab; user-select: none; }
#graph.panning { cursor: grabbing; }
.kind-base { --fill: #e2e8f0; --accent: #475569; }
.kind-layer { --fill: #dbeafe; --accent: #2563eb; }
.kind-image { --fill: #ede9fe; --accent: #7c3aed; }
.kind-deploy { --fill: #ffedd5; --accent: #ea580c; }
.kind-files { --fill: #fef9c3; --accent: #ca8a04; }
.kind-chain { --fill: #cffafe; --accent: #0891b2; }
.st-cached { --status: #16a34a; }
.st-dirty { --status: #dc2626; }
.st-unknown { --status: #94a3b8; }
.node { cursor: pointer; }
.node .box, .node .stack { fill: var(--fill, #f1f5f9); stroke: var(--status); stroke-width: 1.2; }
.node.st-dirty .box { stroke-width: 2.4; }
.node.st-unknown .box { stroke-dasharray: 4 3; }
.node .accent { fill: var(--accent, #64748b); }
.node .dot { fill: var(--status); }
.node .label { font-size: 13px; font-weight: 600; fill: var(--ink); }
.node .sub { font-size: 10.5px; fill: #475569; }
.node:hover .box { stroke-width: 2.6; }
.node.selected .box { stroke: #0f172a; stroke-width: 3; }
.node.hit .box { stroke: #f59e0b; stroke-width: 3; }
.node.dim, .edge.dim { opacity: 0.15; }
.hidden { display: none; }
.edge { fill: none; stroke: #94a3b8; stroke-width: 1.3; }
.edge.selected { stroke: #0f172a; stroke-width: 2.4; opacity: 1; }
#panel { position: absolute; top: 0; right: 0; bottom: 0; width: 340px; overflow: auto;
  padding: 12px 16px; background: #fff; border-left: 1px solid var(--line);
  box-shadow: -4px 0 12px rgba(15, 23, 42, 0.06); }
#panel[hidden] { display: none; }
#panel h2 { font-size: 16px; margin: 0 28px 6px 0; word-break: break-word; }
#panel h3 { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em;
  color: var(--muted); margin: 14px 0 4px; }
#panel .close { position: absolute; top: 8px; right: 10px; padding: 0 8px; }
#panel pre, #panel code { font: 12px/1.45 ui-monospace, Menlo, Consolas, monospace; }
#panel pre { white-space: pre-wrap; word-break: break-word; margin: 0; padding: 8px;
  background: #f1f5f9; border-radius: 6px; }
#panel code { word-break: break-all; }
#panel ul { list-style: none; margin: 0; padding: 0; }
#panel li { margin: 2px 0; }
.p-status { display: inline-block; padding: 2px 8px; border-radius: 10px; color: #fff;
  background: var(--status); }
.p-kind { display: inline-block; padding: 2px 8px; border-radius: 10px; margin-right: 6px;
  background: var(--fill); border: 1px solid var(--accent); }
.p-reason { margin-top: 6px; color: #991b1b; }
.p-link { display: block; width: 100%; text-align: left; border-color: transparent;
  padding: 3px 6px; }
.p-link small { color: var(--muted); font-family: ui-monospace, monospace; }
.p-missing { color: var(--muted); }
#legend { position: absolute; left: 12px; bottom: 12px; padding: 8px 12px; background: #fff;
  border: 1px solid var(--line); border-radius: 8px; font-size: 12px; }
#legend .row { display: flex; align-items: center; gap: 14px; margin: 3px 0; }
#legend .title { font-weight: 600; width: 112px; white-space: nowrap; }
#legend .item { display: flex; align-items: center; gap: 5px; }
#legend .sw { width: 22px; height: 13px; border-radius: 3px; background: var(--fill, #fff);
  border: 2px solid var(--accent, var(--status)); }
"""
