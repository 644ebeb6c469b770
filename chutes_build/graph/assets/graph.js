/* The build graph's model, layout and drawing, for the HTML graph view.
 *
 * Defines one name, ChutesGraph, that ui.js (the page: state, search, panel,
 * pan/zoom, toolbar) builds on. Nothing here touches the page: model() turns the
 * embedded data into nodes with their inputs and users and finds linear layer
 * chains, visibleGraph() collapses the chains not expanded, layout() places the
 * visible items (longest-path layers, barycentre order) and nodeElement() /
 * edgeElement() draw them as SVG. Data only ever goes into textContent or
 * setAttribute, never into markup.
 */
/* exported ChutesGraph */
const ChutesGraph = (() => {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const W = 210, H = 42, COL = 258, ROW = 54;

  // ---- model: nodes, their inputs and users, linear layer chains
  function model(data) {
    const nodes = data.nodes;
    const byKey = new Map(nodes.map((n) => [n.key, n]));
    const users = new Map(nodes.map((n) => [n.key, []]));
    for (const n of nodes) {
      n.inputs = [...new Set(n.deps.filter((d) => byKey.has(d) && d !== n.key))];
      for (const d of n.inputs) users.get(d).push(n.key);
    }
    const chains = findChains(nodes, byKey, users, nodes.length > data.collapse_at);
    return { nodes, byKey, users, chains };
  }

  // Collapse linear layer chains into one expandable item each.
  function findChains(nodes, byKey, users, enabled) {
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

  function repOf(m, expanded, key) {
    const id = m.chains.chainOf.get(key);
    return id !== undefined && !expanded.has(id) ? id : key;
  }

  function chainItem(m, id) {
    const keys = m.chains.members.get(id), parts = keys.map((k) => m.byKey.get(k));
    const dirty = parts.filter((p) => p.status === "dirty");
    const cached = parts.every((p) => p.status === "cached");
    const status = dirty.length ? "dirty" : cached ? "cached" : "unknown";
    return { key: id, kind: "chain", label: parts[0].label, keys, status,
      chutes: parts[0].chutes, text: parts.map((p) => p.text).join("\n"),
      reason: dirty.length ? dirty[0].reason : "", inputs: parts[0].inputs };
  }

  // The items and edges to draw: a chain not in `expanded` is one item.
  function visibleGraph(m, expanded) {
    const items = new Map(), edges = new Map();
    for (const n of m.nodes) {
      const id = repOf(m, expanded, n.key);
      if (!items.has(id)) items.set(id, id === n.key ? n : chainItem(m, id));
      for (const d of n.inputs) {
        const from = repOf(m, expanded, d);
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

  return Object.freeze({ W, H, model, visibleGraph, layout, svgEl, token, plural,
    nodeElement, edgeElement });
})();
