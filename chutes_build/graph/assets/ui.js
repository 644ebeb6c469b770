/* The HTML graph view's page: state, rendering, search, selection, the side
 * panel, pan/zoom and the toolbar.
 *
 * Builds on ChutesGraph (graph.js: model, layout, SVG drawing) and runs once:
 * it reads the nodes from #graph-data, draws them and records how long that took
 * in the svg's data-render-ms. Data is only ever written with textContent or
 * setAttribute, never as markup.
 */
/* global ChutesGraph */
(() => {
  "use strict";
  const G = ChutesGraph;
  const { W, H, svgEl, token, plural } = G;
  const started = performance.now();
  const $ = (id) => document.getElementById(id);
  const graph = G.model(JSON.parse($("graph-data").textContent));
  const { nodes, byKey, users, chains } = graph;
  const state = { expanded: new Set(), selected: null, query: "" };
  const view = { x: 0, y: 0, k: 1 };
  const svg = $("graph"), viewport = $("viewport"), panel = $("panel");
  let shown = { items: new Map(), edges: [], place: new Map() };
  let nodeEls = new Map(), edgeEls = [];

  function render() {
    const g = G.visibleGraph(graph, state.expanded);
    shown = { ...g, place: G.layout(g) };
    const edgeLayer = svgEl("g", { class: "edges" }), nodeLayer = svgEl("g", { class: "nodes" });
    const at = (id) => shown.place.get(id);
    edgeEls = g.edges.map(([a, b]) => [a, b, G.edgeElement(at(a), at(b), a, b)]);
    edgeLayer.append(...edgeEls.map((e) => e[2]));
    nodeEls = new Map();
    for (const item of g.items.values()) nodeEls.set(item.key, G.nodeElement(item, at(item.key)));
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
    const statuses = ["cached", "dirty", "outcome", "unknown"];
    row("Status (border)", statuses.map((s) => entry(`st-${s}`, s)));
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
