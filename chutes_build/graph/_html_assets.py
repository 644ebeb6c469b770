"""CSS and JavaScript of the HTML graph view (see ``_html.render_html``).

Kept apart from the Python so each reads as one piece. The script reads the
nodes from ``#graph-data`` and builds everything else with DOM calls: data is
only ever written with ``textContent`` or ``setAttribute``, never as markup.
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

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

JS = r"""
"use strict";
(() => {
  const SVGNS = "http://www.w3.org/2000/svg";
  const W = 210, H = 42, COL = 258, ROW = 54;
  const started = performance.now();
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("graph-data").textContent);
  const nodes = data.nodes;
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const users = new Map(nodes.map((n) => [n.key, []]));
  for (const n of nodes) {
    n.inputs = [...new Set(n.deps.filter((d) => byKey.has(d) && d !== n.key))];
    for (const d of n.inputs) users.get(d).push(n.key);
  }
  const chains = findChains(nodes.length > data.collapse_at);
  const state = { expanded: new Set(), selected: null, query: "" };
  const view = { x: 0, y: 0, k: 1 };
  const svg = $("graph"), viewport = $("viewport"), panel = $("panel");
  let shown = { items: new Map(), edges: [], place: new Map() };
  let nodeEls = new Map(), edgeEls = [];

  // ---- model: collapse linear layer chains into one expandable item
  function findChains(enabled) {
    const chainOf = new Map(), members = new Map();
    if (!enabled) return { chainOf, members };
    const linear = (n) => n !== undefined && n.kind === "layer" &&
      n.inputs.length === 1 && users.get(n.key).length === 1;
    for (const head of nodes) {
      if (!linear(head) || linear(byKey.get(head.inputs[0]))) continue;
      const run = [];
      for (let n = head; linear(n); n = byKey.get(users.get(n.key)[0])) run.push(n.key);
      if (run.length < 2) continue;
      members.set("chain:" + run[0], run);
      for (const k of run) chainOf.set(k, "chain:" + run[0]);
    }
    return { chainOf, members };
  }

  function repOf(key) {
    const id = chains.chainOf.get(key);
    return id !== undefined && !state.expanded.has(id) ? id : key;
  }

  function chainItem(id) {
    const keys = chains.members.get(id), parts = keys.map((k) => byKey.get(k));
    const dirty = parts.filter((p) => p.status === "dirty");
    const cached = parts.every((p) => p.status === "cached");
    const status = dirty.length ? "dirty" : cached ? "cached" : "unknown";
    return { key: id, kind: "chain", label: parts[0].label, keys, status,
      chutes: parts[0].chutes, text: parts.map((p) => p.text).join("\n"),
      reason: dirty.length ? dirty[0].reason : "", inputs: parts[0].inputs };
  }

  function visibleGraph() {
    const items = new Map(), edges = new Map();
    for (const n of nodes) {
      const id = repOf(n.key);
      if (!items.has(id)) items.set(id, id === n.key ? n : chainItem(id));
      for (const d of n.inputs) {
        const from = repOf(d);
        if (from !== id) edges.set(from + ">" + id, [from, id]);
      }
    }
    return { items, edges: [...edges.values()] };
  }

  // ---- layout: longest-path layers, barycentre order, aligned rows
  function layout(g) {
    const ins = new Map(), outs = new Map();
    for (const id of g.items.keys()) { ins.set(id, []); outs.set(id, []); }
    for (const [a, b] of g.edges) { outs.get(a).push(b); ins.get(b).push(a); }
    const { order, rank } = rankNodes(g, ins, outs);
    const cols = [];
    for (const id of order) (cols[rank.get(id)] ||= []).push(id);
    const columns = cols.filter((c) => c);
    const pos = new Map();
    const index = (col) => col.forEach((id, i) => pos.set(id, (i + 0.5) / col.length));
    columns.forEach(index);
    for (let sweep = 0; sweep < 5; sweep++) {
      const down = sweep % 2 === 0;
      const seq = down ? columns.slice(1) : columns.slice(0, -1).reverse();
      for (const col of seq) { sortByBarycentre(col, down ? ins : outs, pos); index(col); }
    }
    const place = new Map(), ys = new Map();
    columns.forEach((col, c) => placeColumn(col, ins, ys).forEach((y, i) =>
      place.set(col[i], { x: c * COL, y })));
    return place;
  }

  function rankNodes(g, ins, outs) {
    const indeg = new Map([...ins].map(([id, list]) => [id, list.length]));
    const order = [...g.items.keys()].filter((id) => indeg.get(id) === 0);
    const rank = new Map(order.map((id) => [id, 0]));
    for (let i = 0; i < order.length; i++) {
      for (const b of outs.get(order[i])) {
        rank.set(b, Math.max(rank.get(b) ?? 0, rank.get(order[i]) + 1));
        indeg.set(b, indeg.get(b) - 1);
        if (indeg.get(b) === 0) order.push(b);
      }
    }
    const done = new Set(order);  // a cycle (never from a real build graph): draw it anyway
    for (const id of g.items.keys()) {
      if (!done.has(id)) { order.push(id); rank.set(id, rank.get(id) ?? 0); }
    }
    for (const id of order) {  // pull sources (files, bases) next to their first user
      if (ins.get(id).length || !outs.get(id).length) continue;
      rank.set(id, Math.max(0, Math.min(...outs.get(id).map((b) => rank.get(b))) - 1));
    }
    return { order, rank };
  }

  function sortByBarycentre(col, nbrs, pos) {
    const bary = new Map(col.map((id) => {
      const list = nbrs.get(id);
      const mean = list.reduce((s, n) => s + pos.get(n), 0) / list.length;
      return [id, list.length ? mean : pos.get(id)];
    }));
    col.sort((a, b) => bary.get(a) - bary.get(b));
  }

  function placeColumn(col, ins, ys) {
    let prev = -Infinity;
    const want = [], got = [];
    for (const id of col) {
      const up = ins.get(id).filter((a) => ys.has(a));
      const w = up.length ? up.reduce((s, a) => s + ys.get(a), 0) / up.length
        : prev === -Infinity ? 0 : prev + ROW;
      want.push(w);
      prev = Math.max(w, prev + ROW);
      got.push(prev);
    }
    const shift = got.reduce((s, y, i) => s + y - want[i], 0) / Math.max(1, got.length);
    const out = got.map((y) => y - shift);
    col.forEach((id, i) => ys.set(id, out[i]));
    return out;
  }

  // ---- drawing
  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const token = (s) => String(s).replace(/[^A-Za-z0-9_-]/g, "_");
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "\u2026" : s);
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  function subline(item) {
    const chutes = plural(item.chutes.length, "chute");
    if (item.kind === "chain") return `chain of ${item.keys.length} layers \u00b7 ${chutes}`;
    const parts = [item.kind];
    if (item.chutes.length) parts.push(chutes);
    if (item.status === "dirty") parts.push("dirty");
    return parts.join(" \u00b7 ");
  }

  function nodeElement(item, p) {
    const g = svgEl("g", { class: `node kind-${token(item.kind)} st-${token(item.status)}`,
      transform: `translate(${p.x},${p.y})`, "data-key": item.key, "data-kind": item.kind,
      "data-status": item.status });
    g.append(svgEl("title", {}, `${item.label}\n${item.kind} \u00b7 ${item.status}\n${item.key}`));
    if (item.kind === "chain") {
      g.setAttribute("data-size", String(item.keys.length));
      for (const d of [8, 4]) {
        g.append(svgEl("rect", { class: "stack", x: d, y: -d, width: W, height: H, rx: 7 }));
      }
    }
    g.append(svgEl("rect", { class: "box", width: W, height: H, rx: 7 }),
      svgEl("rect", { class: "accent", x: 0.6, y: 0.6, width: 6, height: H - 1.2, rx: 3 }),
      svgEl("circle", { class: "dot", cx: W - 13, cy: 13, r: 4.5 }),
      svgEl("text", { class: "label", x: 14, y: 18, "clip-path": "url(#clip-label)" },
        clip(item.label, 24)),
      svgEl("text", { class: "sub", x: 14, y: 34, "clip-path": "url(#clip-sub)" },
        clip(subline(item), 36)));
    return g;
  }

  function edgeElement(p, q, a, b) {
    const x1 = p.x + W, y1 = p.y + H / 2, x2 = q.x, y2 = q.y + H / 2;
    const dx = Math.max(30, (x2 - x1) / 2);
    return svgEl("path", { class: "edge", "data-from": a, "data-to": b,
      d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}` });
  }

  function render() {
    const g = visibleGraph();
    shown = { ...g, place: layout(g) };
    const edgeLayer = svgEl("g", { class: "edges" }), nodeLayer = svgEl("g", { class: "nodes" });
    const at = (id) => shown.place.get(id);
    edgeEls = g.edges.map(([a, b]) => [a, b, edgeElement(at(a), at(b), a, b)]);
    edgeLayer.append(...edgeEls.map((e) => e[2]));
    nodeEls = new Map();
    for (const item of g.items.values()) nodeEls.set(item.key, nodeElement(item, at(item.key)));
    nodeLayer.append(...nodeEls.values());
    viewport.replaceChildren(edgeLayer, nodeLayer);
    applySearch();
    markSelection();
    updateChainButton();
  }

  // ---- search and selection
  function matches(item, q) {
    if (!q) return true;
    if (item.kind === "chain") return item.keys.some((k) => matches(byKey.get(k), q));
    return item.label.toLowerCase().includes(q) || item.key.toLowerCase().includes(q) ||
      item.chutes.some((c) => c.toLowerCase().includes(q));
  }

  function applySearch() {
    const q = state.query, only = $("only-matches").checked;
    let hits = 0;
    for (const [id, g] of nodeEls) {
      const hit = matches(shown.items.get(id), q);
      hits += hit ? 1 : 0;
      g.classList.toggle("dim", !hit);
      g.classList.toggle("hidden", !hit && only);
      g.classList.toggle("hit", hit && q !== "");
    }
    for (const [a, b, e] of edgeEls) {
      const dim = (id) => nodeEls.get(id).classList.contains("dim");
      const off = dim(a) || dim(b);
      e.classList.toggle("dim", off);
      e.classList.toggle("hidden", off && only);
    }
    const dirty = nodes.filter((n) => n.status === "dirty").length;
    const found = q ? `${hits} of ${nodeEls.size} match \u00b7 ` : "";
    $("counts").textContent = `${found}${plural(nodes.length, "node")} \u00b7 ${dirty} dirty`;
  }

  function markSelection() {
    for (const e of viewport.querySelectorAll(".selected")) e.classList.remove("selected");
    const id = state.selected;
    if (id === null || !nodeEls.has(id)) return;
    nodeEls.get(id).classList.add("selected");
    for (const [a, b, e] of edgeEls) if (a === id || b === id) e.classList.add("selected");
  }

  function select(id) {
    state.selected = id;
    markSelection();
    if (id === null) { panel.hidden = true; return; }
    showPanel(shown.items.get(id));
  }

  function reveal(key) {  // expand the chain hiding key, select it and centre on it
    const id = chains.chainOf.get(key);
    if (id !== undefined && !state.expanded.has(id)) { state.expanded.add(id); render(); }
    select(key);
    centreOn(key);
  }

  function setExpanded(id, open) {
    if (open) state.expanded.add(id); else state.expanded.delete(id);
    render();
    const target = open ? chains.members.get(id)[0] : id;
    select(target);
    centreOn(target);
  }

  // ---- side panel (built with DOM calls; data only ever goes into textContent)
  function h(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function linkList(keys, cls) {
    const ul = h("ul", cls);
    if (!keys.length) ul.append(h("li", "p-missing", "none"));
    for (const k of keys) {
      const n = byKey.get(k), li = h("li");
      if (n === undefined) {
        li.append(h("span", "p-missing", `${k.slice(0, 16)} (not in this graph)`));
      } else {
        const b = h("button", "p-link", n.label);
        b.type = "button";
        b.dataset.key = k;
        b.append(" ", h("small", "", k.slice(0, 12)));
        b.addEventListener("click", () => reveal(k));
        li.append(b);
      }
      ul.append(li);
    }
    return ul;
  }

  function button(cls, text, onClick) {
    const b = h("button", cls, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function showPanel(item) {
    const isChain = item.kind === "chain", chain = chains.chainOf.get(item.key);
    const head = h("div");
    head.append(h("span", `p-kind kind-${token(item.kind)}`, item.kind),
      h("span", `p-status st-${token(item.status)}`, item.status));
    const close = button("close", "\u00d7", () => select(null));
    const lastLabel = isChain ? byKey.get(item.keys[item.keys.length - 1]).label : "";
    const heading = isChain ? `${item.label} \u2192 ${lastLabel}` : item.label;
    const parts = [close, h("h2", "p-label", heading), head];
    if (item.reason) parts.push(h("div", "p-reason", item.reason));
    parts.push(h("h3", "", "Key"), h("code", "p-key", item.key));
    if (isChain) {
      parts.push(h("h3", "", "Chain"), button("p-expand", `Expand ${item.keys.length} layers`,
        () => setExpanded(item.key, true)), linkList(item.keys, "p-members"));
    } else {
      parts.push(h("h3", "", "Directive"), h("pre", "p-text", item.text || "(none)"));
      if (chain !== undefined) {
        parts.push(button("p-collapse", "Collapse chain", () => setExpanded(chain, false)));
      }
    }
    const inputs = isChain ? item.inputs : item.deps;
    const last = isChain ? item.keys[item.keys.length - 1] : item.key;
    parts.push(h("h3", "", `Inputs (${inputs.length})`), linkList(inputs),
      h("h3", "", `Used by (${users.get(last).length})`), linkList(users.get(last)),
      h("h3", "", `Chutes (${item.chutes.length})`), chuteList(item.chutes));
    panel.replaceChildren(...parts);
    panel.hidden = false;
  }

  function chuteList(names) {
    const ul = h("ul", "p-chutes");
    if (!names.length) ul.append(h("li", "p-missing", "none"));
    for (const name of names) ul.append(h("li", "", name));
    return ul;
  }

  // ---- view: pan, zoom, fit
  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`);
  }

  function freeWidth() {
    return svg.getBoundingClientRect().width - (panel.hidden ? 0 : panel.offsetWidth);
  }

  function fit() {
    const height = svg.getBoundingClientRect().height, width = freeWidth();
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const p of shown.place.values()) {
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y - 8);
      x1 = Math.max(x1, p.x + W + 8); y1 = Math.max(y1, p.y + H);
    }
    if (x0 === Infinity) return;
    const k = Math.min((width - 40) / (x1 - x0), (height - 40) / (y1 - y0));
    view.k = Math.min(1, Math.max(0.02, k));
    view.x = (width - (x1 - x0) * view.k) / 2 - x0 * view.k;
    view.y = (height - (y1 - y0) * view.k) / 2 - y0 * view.k;
    applyView();
  }

  function centreOn(id) {
    const p = shown.place.get(id);
    if (p === undefined) return;
    const r = svg.getBoundingClientRect();
    view.k = Math.max(view.k, 0.8);
    view.x = freeWidth() / 2 - (p.x + W / 2) * view.k;
    view.y = r.height / 2 - (p.y + H / 2) * view.k;
    applyView();
  }

  function wireView() {
    svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = svg.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
      const k = Math.min(4, Math.max(0.02, view.k * Math.exp(-e.deltaY * 0.0015)));
      view.x = mx - ((mx - view.x) * k) / view.k;
      view.y = my - ((my - view.y) * k) / view.k;
      view.k = k;
      applyView();
    }, { passive: false });
    let drag = null, moved = false;
    svg.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
      moved = false;
    });
    window.addEventListener("pointermove", (e) => {
      if (drag === null) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      moved = true;
      svg.classList.add("panning");
      view.x = drag.vx + dx; view.y = drag.vy + dy;
      applyView();
    });
    window.addEventListener("pointerup", () => { drag = null; svg.classList.remove("panning"); });
    svg.addEventListener("click", (e) => {
      if (moved) { moved = false; return; }
      const g = e.target.closest("g.node");
      select(g ? g.dataset.key : null);
    });
    svg.addEventListener("dblclick", (e) => {
      const g = e.target.closest("g.node");
      if (g && chains.members.has(g.dataset.key)) setExpanded(g.dataset.key, true);
    });
  }

  // ---- toolbar and legend
  function updateChainButton() {
    const b = $("chains"), total = chains.members.size;
    b.hidden = total === 0;
    const open = state.expanded.size === total;
    const closed = plural(total - state.expanded.size, "chain");
    b.textContent = open ? `Collapse ${plural(total, "chain")}` : `Expand ${closed}`;
  }

  function wireToolbar() {
    const search = $("search");
    const onSearch = () => { state.query = search.value.trim().toLowerCase(); applySearch(); };
    search.addEventListener("input", onSearch);
    search.addEventListener("change", onSearch);
    search.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      const q = state.query;
      const first = q ? [...shown.items.values()].find((item) => matches(item, q)) : undefined;
      if (first) { select(first.key); centreOn(first.key); }
    });
    $("only-matches").addEventListener("change", applySearch);
    $("fit").addEventListener("click", fit);
    $("chains").addEventListener("click", () => {
      const open = state.expanded.size === chains.members.size;
      state.expanded = open ? new Set() : new Set(chains.members.keys());
      render();
      fit();
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") select(null);
      if (e.key !== "/" || document.activeElement === search) return;
      e.preventDefault();
      search.focus();
    });
  }

  function legend() {
    const box = $("legend"), kinds = new Set(nodes.map((n) => n.kind));
    if (chains.members.size) kinds.add("chain");
    const entry = (cls, text) => {
      const item = h("div", "item");
      item.append(h("span", `sw ${cls}`), h("span", "", text));
      return item;
    };
    const known = ["base", "files", "layer", "chain", "image", "deploy"];
    const row = (title, entries) => {
      const r = h("div", "row");
      r.append(h("span", "title", title), ...entries);
      box.append(r);
    };
    const other = [...kinds].filter((k) => !known.includes(k));
    const shownKinds = [...known.filter((k) => kinds.has(k)), ...other];
    row("Kind (fill)", shownKinds.map((k) => entry(`kind-${token(k)}`, k)));
    row("Status (border)", ["cached", "dirty", "unknown"].map((s) => entry(`st-${s}`, s)));
  }

  function clipPaths() {  // labels never spill out of their box, whatever their glyphs
    const defs = svgEl("defs");
    for (const [id, right] of [["clip-label", W - 22], ["clip-sub", W - 6]]) {
      const path = svgEl("clipPath", { id });
      path.append(svgEl("rect", { x: 0, y: 0, width: right, height: H }));
      defs.append(path);
    }
    svg.prepend(defs);
  }

  clipPaths();
  wireView();
  wireToolbar();
  legend();
  render();
  fit();
  svg.dataset.renderMs = String(Math.round(performance.now() - started));
})();
"""
