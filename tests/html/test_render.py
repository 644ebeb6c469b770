"""The HTML page as text: self-contained, data embedded safely, CSP matching its script."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from chutes_build.graph._html import render_html, script_json

from ._graphs import small_graph

HOSTILE = "</script><script>alert(1)</script>"
DATA = re.compile(r'<script type="application/json" id="graph-data">(.*?)</script>', re.S)


def test_data_round_trips_through_the_json_script_element() -> None:
    nodes = small_graph()
    page = render_html(nodes)
    (payload,) = DATA.findall(page)
    data = json.loads(payload)
    assert data["nodes"] == nodes
    assert data["title"] == "chutes-build graph"


def test_hostile_strings_cannot_close_the_script_element() -> None:
    nodes = small_graph()
    nodes[0]["label"] = HOSTILE
    nodes[1]["text"] = "<!-- <script> & \u2028 -->"
    page = render_html(nodes, title=HOSTILE)
    assert page.count("<script") == 2  # the data element and the page's own script
    assert page.count("</script>") == 2
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    (payload,) = DATA.findall(page)
    assert "<" not in payload and ">" not in payload and "\u2028" not in payload
    assert json.loads(payload)["nodes"][0]["label"] == HOSTILE


def test_script_json_escapes_markup_characters() -> None:
    assert script_json({"a": "</b>&"}) == '{"a":"\\u003c/b\\u003e\\u0026"}'


def test_page_is_self_contained() -> None:
    page = render_html(small_graph())
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # a namespace name, never fetched
    assert not re.search(r"<(link|img|iframe)\b|src=", page)
    assert "default-src 'none'" in page


def test_content_security_policy_allows_exactly_the_page_script() -> None:
    page = render_html(small_graph())
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page


def test_duplicate_key_is_rejected() -> None:
    nodes = small_graph()
    nodes.append(dict(nodes[0]))
    with pytest.raises(ValueError, match=rf"^graph node key given twice: {nodes[0]['key']}$"):
        render_html(nodes)


def test_node_without_key_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^graph node without a string key: "):
        render_html([{"kind": "layer", "label": "x"}])
