"""Issue 14: an outcome a target recorded (``needs-gpu``, ``prebuilt``) is shown as that
outcome, never as dirty, and stops holding when the inputs or the conditions change."""

from __future__ import annotations

import json
import re

from chutes_build.engine import local_conditions, record_outcomes
from chutes_build.graph import explain, plan, record_run, render, result_key

from .conftest import chute_file
from .test_plan import IMAGE

NO_GPU = local_conditions(gpu=False)


def _images_only(tree, graph) -> None:
    from chutes_build.cache import ActionResult

    for key in graph.keys():
        if graph.node(key).kind != "deploy":
            tree.store.put_action(result_key(node := graph.node(key)), ActionResult(kind=node.kind))


def _setup(tree):
    tree.write("chutes/a/src/model.py", "m = 1\n")
    tree.write("chutes/a/helpers.py", "X = 1\n")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", IMAGE, imports="import helpers"))
    graph = tree.compile()
    _images_only(tree, graph)
    rows = [{"key": k, "state": "needs-gpu", "note": "vllm template: needs a GPU to run"}
            for k in graph.keys("deploy")]  # fmt: skip
    assert record_outcomes(tree.store, rows, gpu=False) == 1
    record_run(tree.store, graph)
    return graph


def test_issue_14_a_recorded_outcome_is_not_dirty(tree):
    graph = _setup(tree)
    result = plan(graph, tree.store, NO_GPU)
    (deploy,) = [n for n in result.nodes if n.kind == "deploy"]
    assert deploy.status == "outcome" and deploy.outcome == "needs-gpu"
    assert re.fullmatch(r"needs-gpu: vllm template: needs a GPU to run", deploy.reason)
    assert result.summary["dirty"] == 0 and result.summary["dirty_chutes"] == []
    assert result.summary["outcomes"] == 1
    assert result.summary["chute_outcomes"] == {"alpha": "needs-gpu"}


def test_issue_14_why_shows_the_outcome_with_every_input_unchanged(tree):
    graph = _setup(tree)
    node, changes = explain(graph, graph.resolve("alpha"), tree.store, NO_GPU)
    assert node.status == "outcome" and node.outcome == "needs-gpu"
    assert changes and {c.status for c in changes} == {"unchanged"}


def test_issue_14_an_outcome_stops_holding_when_a_gpu_appears(tree):
    graph = _setup(tree)
    result = plan(graph, tree.store, local_conditions(gpu=True))
    (deploy,) = [n for n in result.nodes if n.kind == "deploy"]
    assert deploy.status == "dirty" and deploy.outcome is None


def test_issue_14_an_outcome_stops_holding_when_the_inputs_change(tree):
    _setup(tree)
    tree.write("chutes/a/helpers.py", "X = 2\n", age=5)
    result = plan(tree.compile(), tree.store, NO_GPU)
    (deploy,) = [n for n in result.nodes if n.kind == "deploy"]
    assert deploy.status == "dirty"
    assert re.fullmatch(r"chutes/a/helpers\.py changed", deploy.reason)


def test_issue_14_without_conditions_no_outcome_is_read(tree):
    graph = _setup(tree)
    (deploy,) = [n for n in plan(graph, tree.store).nodes if n.kind == "deploy"]
    assert deploy.status == "dirty"


def test_issue_14_renderers_show_the_outcome_not_dirty(tree):
    graph = _setup(tree)
    result = plan(graph, tree.store, NO_GPU)
    nodes = json.loads(render(graph, "json", result))["nodes"]
    (deploy,) = [n for n in nodes if n["kind"] == "deploy"]
    assert deploy["status"] == "outcome" and deploy["outcome"] == "needs-gpu"
    assert "needs-gpu" in render(graph, "tree", result)
    assert "fillcolor=lightblue" in render(graph, "dot", result)
    assert "class " in render(graph, "mermaid", result)
    assert '"status": "outcome"' in render(graph, "html", result).replace('":"', '": "')


def test_issue_14_a_settled_chutes_runtime_layer_is_settled_with_it(tree):
    from chutes_build.cache import ActionResult

    tree.write("chutes/a/src/model.py", "m = 1\n")
    tree.write("chutes/a/helpers.py", "X = 1\n")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", IMAGE, imports="import helpers"))
    graph = tree.compile()
    for key in graph.keys():  # what `up` builds for a GPU chute here: its image, no runtime
        if graph.node(key).kind not in ("deploy", "runtime"):
            tree.store.put_action(key, ActionResult(kind=graph.node(key).kind))
    rows = [{"key": k, "state": "needs-gpu", "note": "vllm template: needs a GPU to run"}
            for k in graph.keys("deploy")]  # fmt: skip
    before = plan(graph, tree.store, NO_GPU)
    assert [n.kind for n in before.nodes if n.status == "dirty"] == ["runtime", "deploy"]
    record_outcomes(tree.store, rows, gpu=False, graph=graph)
    after = plan(graph, tree.store, NO_GPU)
    assert after.summary["dirty"] == 0 and after.summary["outcomes"] == 2
    assert after.summary["chute_outcomes"] == {"alpha": "needs-gpu"}
    gpu = plan(graph, tree.store, local_conditions(gpu=True))
    assert [n.kind for n in gpu.nodes if n.status == "dirty"] == ["runtime", "deploy"]


def test_issue_16_recording_the_same_outcome_again_writes_nothing(tree):
    from chutes_build.graph import outcome_key

    graph = _setup(tree)
    key = outcome_key(graph.keys("deploy")[0], {"target": "local", "gpu": False})
    first, _ = tree.store.read_action(key, touch=False)
    rows = [{"key": k, "state": "needs-gpu", "note": "vllm template: needs a GPU to run"}
            for k in graph.keys("deploy")]  # fmt: skip
    record_outcomes(tree.store, rows, gpu=False, graph=graph)
    again, _ = tree.store.read_action(key, touch=False)
    assert again.created == first.created
    rows[0]["note"] = "another note"
    record_outcomes(tree.store, rows, gpu=False, graph=graph)
    changed, _ = tree.store.read_action(key, touch=False)
    assert changed.outputs["note"] == "another note"
