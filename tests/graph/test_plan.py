"""Planning and explaining: cached or dirty, and the cause named like ``ninja -d explain``."""

from __future__ import annotations

from chutes_build.cache import ActionResult
from chutes_build.graph import explain, last_run, plan, record_run, result_key

from .conftest import chute_file

IMAGE = ".apt_install(['curl']).add('src', '/app/src').run_command('echo a')"


def build_everything(tree, graph) -> None:
    """What the build step does: write each node's result, then record the graph it ran."""
    for key in graph.keys():
        tree.store.put_action(result_key(node := graph.node(key)), ActionResult(kind=node.kind))
    record_run(tree.store, graph)


def reasons(tree) -> dict[str, str]:
    result = plan(tree.compile(), tree.store)
    return {n.label: n.reason for n in result.nodes if n.status == "dirty"}


def setup(tree) -> None:
    tree.write("chutes/a/src/model.py", "m = 1\n")
    tree.write("chutes/a/helpers.py", "X = 1\n")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", IMAGE, imports="import helpers"))
    tree.write("chutes/b/chute_b.py", chute_file("beta", ".apt_install(['curl'])"))


def test_everything_is_dirty_and_never_built_at_first(tree):
    setup(tree)
    result = plan(tree.compile(), tree.store)
    assert {n.status for n in result.nodes} == {"dirty"}
    assert {n.reason for n in result.nodes} == {"never built"}
    assert result.summary["dirty_chutes"] == ["alpha", "beta"]
    assert result.summary["by_kind"]["layer"] == {"cached": 0, "dirty": 3}


def test_built_nodes_are_cached(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    result = plan(tree.compile(), tree.store)
    assert {n.status for n in result.nodes} == {"cached"}
    assert result.summary["dirty"] == 0 and result.summary["dirty_chutes"] == []


def test_directive_change_names_the_directive_and_the_upstream(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    tree.write(
        "chutes/a/chute_a.py",
        chute_file("alpha", IMAGE.replace("echo a", "echo b"), imports="import helpers"),
        age=5,
    )
    assert reasons(tree) == {
        "RUN echo b": "directive changed: 'RUN echo a' -> 'RUN echo b'",
        "me/alpha:1": "upstream layer 'RUN echo b' changed",
        "on me/alpha:1": "upstream image 'me/alpha:1' changed",
        "alpha": "chutes/a/chute_a.py changed; upstream image 'me/alpha:1' changed",
    }


def test_file_change_names_the_file(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    tree.write("chutes/a/src/model.py", "m = 2\n", age=5)
    tree.write("chutes/a/src/extra.py", "e\n", age=5)
    found = reasons(tree)
    assert (
        found["ADD chutes/a/src /app/src"]
        == "chutes/a/src/extra.py added; chutes/a/src/model.py changed"
    )
    assert found["RUN echo a"] == "upstream layer 'ADD chutes/a/src /app/src' changed"
    assert "beta" not in found


def test_helper_change_dirties_only_the_deploy_node(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    tree.write("chutes/a/helpers.py", "X = 2\n", age=5)
    assert reasons(tree) == {"alpha": "chutes/a/helpers.py changed"}


def test_setting_change_is_named(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    text = chute_file("beta", ".apt_install(['curl'])")
    tree.write(
        "chutes/b/chute_b.py",
        text.replace(
            "node_selector=NodeSelector(gpu_count=1))",
            "node_selector=NodeSelector(gpu_count=1), concurrency=8)",
        ),
        age=5,
    )
    found = reasons(tree)
    assert found == {"beta": "chutes/b/chute_b.py changed; concurrency changed: 1 -> 8"}


def test_a_node_missing_from_the_cache_says_so(tree):
    setup(tree)
    graph = tree.compile()
    build_everything(tree, graph)
    deploy = graph.resolve("beta")
    tree.store.data.pop(("ac", deploy))
    found = reasons(tree)
    assert list(found) == ["beta"]
    assert found["beta"].startswith("not in the action cache")


def test_record_run_merges_partial_runs(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    build_everything(tree, tree.compile([str(tree.root / "chutes/b/chute_b.py")]))
    recorded = last_run(tree.store, str(tree.root))
    assert "deploy:me/alpha" in recorded.slots and "deploy:me/beta" in recorded.slots
    tree.write("chutes/a/helpers.py", "X = 3\n", age=5)
    assert reasons(tree) == {"alpha": "chutes/a/helpers.py changed"}


def test_explain_lists_each_input(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    tree.write("chutes/a/helpers.py", "X = 4\n", age=5)
    graph = tree.compile()
    node, inputs = explain(graph, graph.resolve("alpha"), tree.store)
    assert node.status == "dirty" and node.reason == "chutes/a/helpers.py changed"
    by_name = {i.name: i for i in inputs}
    assert by_name["code:chutes/a/helpers.py"].status == "changed"
    assert by_name["code:chutes/a/chute_a.py"].status == "unchanged"
    assert by_name["image"].status == "unchanged"
    assert by_name["cord:/hello"].status == "unchanged"
    assert by_name["setting:concurrency"].new == "1"


def test_explain_before_any_run(tree):
    setup(tree)
    graph = tree.compile()
    node, inputs = explain(graph, graph.resolve("beta"), tree.store)
    assert node.reason == "never built"
    assert {i.status for i in inputs} == {"added"}


def test_an_inserted_directive_is_named_as_new_not_as_a_change(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    inserted = IMAGE.replace(".add(", ".with_env('B', '2').add(")
    tree.write(
        "chutes/a/chute_a.py", chute_file("alpha", inserted, imports="import helpers"), age=5
    )
    found = reasons(tree)
    assert found["ENV B=2"] == "new directive 'ENV B=2'"
    assert found["ADD chutes/a/src /app/src"] == "upstream layer 'ENV B=2' changed"
    assert found["RUN echo a"] == "upstream layer 'ADD chutes/a/src /app/src' changed"


def test_a_removed_directive_dirties_what_was_above_it(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    removed = IMAGE.replace(".add('src', '/app/src')", "")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", removed, imports="import helpers"), age=5)
    found = reasons(tree)
    assert found["RUN echo a"] == (
        "now built on layer 'RUN apt-get -y install curl' (a directive below was removed or moved)"
    )
    assert "ADD chutes/a/src /app/src" not in found


def test_a_shorter_image_forgets_the_layers_it_lost(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    tree.write("chutes/a/chute_a.py", chute_file("alpha", "", imports="import helpers"), age=5)
    build_everything(tree, tree.compile())
    slots = last_run(tree.store, str(tree.root)).slots
    assert sorted(s for s in slots if s.startswith("layer:me/alpha:1#")) == ["layer:me/alpha:1#0"]
    assert "layer:me/beta:1#1" in slots


def test_base_image_change_is_named(tree):
    setup(tree)
    build_everything(tree, tree.compile())
    tree.config('base-images = {"parachutes/python:3.12" = "local/python:3.12"}')
    found = reasons(tree)
    assert found["local/python:3.12"] == (
        "base image changed: parachutes/python:3.12 -> local/python:3.12"
    )
    assert found["RUN apt-get -y install curl"] == "upstream base 'local/python:3.12' changed"
