"""Issue 14: the graph holds typed nodes: frozen msgspec structs tagged by ``kind``."""

from __future__ import annotations

import re

import msgspec
import pytest

from chutes_build.core import GraphError
from chutes_build.graph import (
    BaseNode,
    DeployNode,
    ImageNode,
    LayerNode,
    LogoNode,
    NodeKind,
    RuntimeNode,
)

from .test_plan import setup


def test_issue_14_every_node_is_a_typed_struct_of_its_kind(tree):
    setup(tree)
    graph = tree.compile()
    kinds = {BaseNode: "base", LayerNode: "layer", ImageNode: "image", DeployNode: "deploy",
             RuntimeNode: "runtime", LogoNode: "logo"}  # fmt: skip
    for node in graph.nodes():
        assert kinds[type(node)] == node.kind
    (deploy,) = [n for n in graph.nodes("deploy") if n.chute == "alpha"]
    image = graph.image(deploy.image)
    assert graph.node(image.top).kind == "layer" and image.deps == (image.top,)
    assert deploy.deps == (image.key,) and deploy.chutes == ("alpha",)


def test_issue_14_nodes_are_frozen(tree):
    setup(tree)
    node = next(tree.compile().nodes("layer"))
    with pytest.raises(AttributeError):
        node.line = "RUN rm -rf /"


def test_issue_14_a_node_round_trips_through_its_tagged_plain_form(tree):
    setup(tree)
    for node in tree.compile().nodes():
        plain = msgspec.to_builtins(node)
        assert plain["kind"] == node.kind and plain["key"] == node.key
        assert msgspec.convert(plain, NodeKind) == node


def test_issue_14_asking_for_the_wrong_kind_names_it(tree):
    setup(tree)
    graph = tree.compile()
    image = graph.keys("image")[0]
    with pytest.raises(GraphError, match=rf"^node {image[:12]} is not a deploy node but image$"):
        graph.deploy(image)
    assert re.fullmatch(r"[0-9a-f]{32}", image)
