"""The HTML graph view in real headless Chromium, driven over W3C WebDriver."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ._graphs import big_graph, small_graph
from ._webdriver import Browser

ARTIFACT = Path(__file__).resolve().parents[1] / ".artifacts" / "graph.png"
HOSTILE = "</script><script>alert(1)</script>"

Open = Callable[..., Browser]

COUNT_SHOWN = """
return [...document.querySelectorAll(arguments[0])]
  .filter((e) => e.getBoundingClientRect().width > 0).length;
"""


def _count(browser: Browser, css: str) -> int:
    return browser.run("return document.querySelectorAll(arguments[0]).length;", css)


def _text(browser: Browser, css: str) -> str | None:
    return browser.run(
        "const e = document.querySelector(arguments[0]);return e === null ? null : e.textContent;",
        css,
    )


def _click_node(browser: Browser, key: str) -> None:
    browser.click(browser.find(f'g.node[data-key="{key}"]'))


def test_every_node_and_edge_is_drawn(open_graph: Open) -> None:
    nodes = small_graph()
    browser = open_graph(nodes)
    keys = browser.run(
        "return [...document.querySelectorAll('g.node')]"
        ".map((g) => [g.dataset.key, g.dataset.kind, g.dataset.status]);"
    )
    assert sorted(keys) == sorted([n["key"], n["kind"], n["status"]] for n in nodes)
    assert _count(browser, "path.edge") == sum(len(n["deps"]) for n in nodes)
    assert browser.run("return document.getElementById('graph').dataset.renderMs") is not None
    assert browser.run("return performance.getEntriesByType('resource').length;") == 0


def test_clicking_a_node_shows_its_details(open_graph: Open) -> None:
    nodes = small_graph()
    byKey = {n["key"]: n for n in nodes}
    deploy = next(n for n in nodes if n["kind"] == "deploy" and n["status"] == "dirty")
    browser = open_graph(nodes)
    assert browser.run("return document.getElementById('panel').hidden;") is True
    _click_node(browser, deploy["key"])
    assert browser.run("return document.getElementById('panel').hidden;") is False
    assert _text(browser, "#panel .p-key") == deploy["key"]
    assert _text(browser, "#panel .p-text") == deploy["text"]
    assert _text(browser, "#panel .p-status") == "dirty"
    assert _text(browser, "#panel .p-reason") == "src/serve.py changed"
    assert _text(browser, "#panel .p-chutes") == "qwen-32b"
    assert _count(browser, f'g.node.selected[data-key="{deploy["key"]}"]') == 1
    # inputs are links: follow the deploy's image input
    (image_key,) = deploy["deps"]
    browser.click(browser.find(f'#panel button.p-link[data-key="{image_key}"]'))
    assert _text(browser, "#panel .p-key") == image_key
    assert _text(browser, "#panel .p-label") == byKey[image_key]["label"]


def test_search_narrows_the_visible_nodes(open_graph: Open) -> None:
    nodes = small_graph()
    browser = open_graph(nodes)
    expected = sum(
        1 for n in nodes if "qwen" in n["label"] or any("qwen" in c for c in n["chutes"])
    )
    assert 0 < expected < len(nodes)
    browser.type(browser.find("#search"), "qwen")
    assert _count(browser, "g.node:not(.dim)") == expected
    assert _count(browser, "g.node.hit") == expected
    browser.click(browser.find("#only-matches"))
    assert browser.run(COUNT_SHOWN, "g.node") == expected
    browser.clear(browser.find("#search"))
    assert browser.run(COUNT_SHOWN, "g.node") == len(nodes)


def test_search_finds_by_key_prefix(open_graph: Open) -> None:
    nodes = small_graph()
    browser = open_graph(nodes)
    browser.type(browser.find("#search"), nodes[3]["key"][:10])
    assert browser.run(
        "return [...document.querySelectorAll('g.node:not(.dim)')].map((g) => g.dataset.key);"
    ) == [nodes[3]["key"]]


def test_pan_and_zoom_move_the_view(open_graph: Open) -> None:
    browser = open_graph(small_graph())
    transform = "return document.getElementById('viewport').getAttribute('transform');"
    box = browser.run(
        "const r = document.getElementById('graph').getBoundingClientRect();"
        "return [Math.round(r.left), Math.round(r.top)];"
    )
    before = browser.run(transform)
    x, y = box[0] + 6, box[1] + 6  # the fitted graph leaves a margin: this is background
    browser.perform(
        {
            "type": "pointer",
            "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "x": x, "y": y, "origin": "viewport"},
                {"type": "pointerDown", "button": 0},
                {
                    "type": "pointerMove",
                    "x": x + 120,
                    "y": y + 80,
                    "origin": "viewport",
                    "duration": 50,
                },
                {"type": "pointerUp", "button": 0},
            ],
        }
    )
    panned = browser.run(transform)
    assert panned != before and panned.endswith(before.split(" ")[-1])  # same scale
    browser.perform(
        {
            "type": "wheel",
            "id": "wheel",
            "actions": [
                {
                    "type": "scroll",
                    "x": x + 300,
                    "y": y + 200,
                    "deltaX": 0,
                    "deltaY": -400,
                    "origin": "viewport",
                }
            ],
        }
    )
    zoomed = browser.run(transform)
    assert zoomed.split(" ")[-1] != panned.split(" ")[-1]
    assert browser.run("return document.getElementById('panel').hidden;") is True


def test_hostile_labels_are_rendered_as_text(open_graph: Open) -> None:
    nodes = small_graph()
    nodes[0]["label"] = HOSTILE
    nodes[1]["label"] = '<img src=x onerror="window.__pwned=1">'
    nodes[1]["text"] = "</script><script>window.__pwned = 2</script>"
    nodes[2]["chutes"] = ["<b onmouseover=alert(3)>x</b>"]
    title = "graph </title><script>alert(2)</script>"
    browser = open_graph(nodes, title=title)
    assert browser.alert_text() is None
    assert browser.title() == title
    assert browser.run("return window.__pwned === undefined;") is True
    assert _count(browser, "script") == 2 and _count(browser, "img, b") == 0
    label = _text(browser, f'g.node[data-key="{nodes[0]["key"]}"] text.label')
    assert label is not None and label.startswith("</script><script>")
    _click_node(browser, nodes[0]["key"])
    assert _text(browser, "#panel .p-label") == HOSTILE
    _click_node(browser, nodes[1]["key"])
    assert _text(browser, "#panel .p-text") == nodes[1]["text"]
    assert browser.alert_text() is None
    assert browser.run("return window.__pwned === undefined;") is True


def test_large_graph_collapses_linear_chains(open_graph: Open) -> None:
    nodes = big_graph(2000)
    browser = open_graph(nodes)
    drawn = _count(browser, "g.node")
    chains = browser.run(
        "return [...document.querySelectorAll('g.node[data-kind=chain]')]"
        ".map((g) => g.dataset.key);"
    )
    assert 0 < drawn < len(nodes) // 4 and chains
    # every real node is either drawn or a member of a drawn chain
    sizes = browser.run(
        "return [...document.querySelectorAll('g.node')].map((g) => +(g.dataset.size || 1));"
    )
    assert sum(sizes) == len(nodes)
    chain = chains[0]
    _click_node(browser, chain)
    members = browser.run(
        "return [...document.querySelectorAll('#panel .p-members button.p-link')]"
        ".map((b) => b.dataset.key);"
    )
    first = chain.removeprefix("chain:")
    assert members[0] == first and len(members) > 2
    assert _count(browser, f'g.node[data-key="{first}"]') == 0
    browser.click(browser.find("#panel .p-expand"))
    assert _count(browser, "g.node") == drawn + len(members) - 1
    shown = set(
        browser.run("return [...document.querySelectorAll('g.node')].map((g) => g.dataset.key);")
    )
    assert set(members) <= shown and chain not in shown
    assert _text(browser, "#panel .p-key") == first  # the expanded chain's head is selected
    browser.click(browser.find("#panel .p-collapse"))
    assert _count(browser, "g.node") == drawn
    browser.click(browser.find("#chains"))  # expand every chain: all 2,000 nodes drawn
    assert _count(browser, "g.node") == len(nodes)


def test_screenshot(open_graph: Open, browser: Browser) -> None:
    nodes = small_graph()
    browser.set_window(1600, 1000)
    try:
        open_graph(nodes, title="chutes-build graph: example workspace")
        dirty = next(n for n in nodes if n["kind"] == "deploy" and n["status"] == "dirty")
        _click_node(browser, dirty["key"])
        browser.click(browser.find("#fit"))
        browser.screenshot(ARTIFACT)
    finally:
        browser.set_window(1440, 900)
    assert ARTIFACT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_dangling_and_cyclic_inputs_still_render(open_graph: Open) -> None:
    finished = "return document.getElementById('graph').dataset.renderMs !== undefined;"
    browser = open_graph([])
    assert browser.run(finished) is True and _count(browser, "g.node") == 0
    cyclic = [
        {"key": "aa", "kind": "layer", "label": "a", "deps": ["bb", "ff"], "chutes": []},
        {"key": "bb", "kind": "layer", "label": "b", "deps": ["aa"], "chutes": []},
        {"key": "cc", "kind": "mystery", "label": "c", "deps": ["bb"], "chutes": ["x"]},
    ]
    browser = open_graph(cyclic)
    assert browser.run(finished) is True and _count(browser, "g.node") == 3
    _click_node(browser, "aa")
    assert _text(browser, "#panel .p-missing") == "ff (not in this graph)"
