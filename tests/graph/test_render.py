"""Renderers: tree, dot, mermaid and json read the same node dicts."""

from __future__ import annotations

import json

import pytest

from chutes_build import GraphError
from chutes_build.graph import node_dicts, plan, render

from .conftest import chute_file


@pytest.fixture
def graph(tree):
    tree.write(
        "chutes/a/chute_a.py",
        chute_file("alpha", ".apt_install(['curl']).run_command('echo \"<a>\"')"),
    )
    tree.write("chutes/b/chute_b.py", chute_file("beta", ".apt_install(['curl'])"))
    built = tree.compile()
    built.plan = plan(built, tree.store)
    return built


def test_json_has_the_documented_fields(graph):
    data = json.loads(render(graph, "json", graph.plan))
    assert data["summary"]["nodes"] == len(graph) == len(data["nodes"])
    for node in data["nodes"]:
        assert {"key", "kind", "label", "deps", "chutes", "text", "status", "reason"} <= set(node)
        assert node["status"] == "dirty" and node["reason"] == "never built"
    keys = [n["key"] for n in data["nodes"]]
    for i, node in enumerate(data["nodes"]):
        assert all(keys.index(dep) < i for dep in node["deps"])  # build order
    deploy = next(n for n in data["nodes"] if n["label"] == "alpha")
    assert deploy["file"] == "chutes/a/chute_a.py" and deploy["image_ref"] == "me/alpha:1"


def test_node_dicts_without_a_plan_are_unknown(graph):
    assert {n["status"] for n in node_dicts(graph)} == {"unknown"}


def test_dot_is_a_digraph_with_every_edge(graph):
    text = render(graph, "dot", graph.plan)
    assert text.startswith("digraph chutes_build {") and text.endswith("}")
    assert text.count(" -> ") == graph.nx.number_of_edges()
    assert text.count("style=dashed") == sum(len(n.after) for _, n in graph.items()) > 0
    assert '"layer: RUN echo \\"<a>\\""' in text


def test_mermaid_escapes_labels(graph):
    text = render(graph, "mermaid", graph.plan)
    assert text.startswith("flowchart BT")
    after = sum(len(n.after) for _, n in graph.items())
    assert text.count(" --> ") + text.count(" -.-> ") == graph.nx.number_of_edges()
    assert text.count(" -.-> ") == after > 0
    assert "RUN echo #quot;&lt;a&gt;#quot;" in text
    assert "class " in text and "dirty" in text


def test_tree_lists_each_chute_with_its_layers(graph):
    from rich.console import Console

    text = Console(width=200).render_str(render(graph, "tree", graph.plan)).plain
    lines = text.splitlines()
    assert lines[0].startswith("alpha  (chutes/a/chute_a.py:chute)")
    assert lines[1].startswith("└── image me/alpha:1")
    assert "RUN apt-get -y install curl" in lines[3] and "(shared by 2)" in lines[3]
    assert 'RUN echo "<a>"' in text


def test_unknown_format(graph):
    with pytest.raises(
        GraphError, match=r"^unknown graph format 'png'\n  fix: use one of: tree, dot"
    ):
        render(graph, "png")
