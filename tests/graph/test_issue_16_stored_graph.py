"""Issue 16: the stored graph keeps each ``add()``'s files once and decodes straight into
typed nodes; a record that does not hold together reads as a miss, never as a graph."""

from __future__ import annotations

import msgspec

from chutes_build.cache import scope_id
from chutes_build.graph._graph_cache import _Compiled
from tests.graph.test_issue_16_warm_caches import CHUTE, settle


def shared_folder(tree):
    for name in ("a", "b"):
        text = CHUTE.format(name=name, source="../data").replace(
            '.add("../data"', f'.run_command("echo {name}").add("../data"'
        )
        tree.write(f"chutes/{name}/chute_{name}.py", text)
    tree.write("chutes/data/one.txt", "1")
    tree.write("chutes/data/two.txt", "2")
    return tree


def warm(tree):
    fresh = tree.compile()
    settle(tree.root)
    tree.compile()
    graph = tree.compile()
    assert graph.from_cache
    return fresh, graph


def adds(graph):
    return [n for n in graph.nodes("layer") if n.files]


def test_issue_16_chutes_that_add_one_folder_share_its_files_once_stored(tree):
    fresh, cached = warm(shared_folder(tree))
    first, second = adds(cached)
    assert first.key != second.key and first.files is second.files
    assert [msgspec.json.encode(n) for n in adds(cached)] == [
        msgspec.json.encode(n) for n in adds(fresh)
    ]
    record = tree.store.load_struct("compiled", scope_id(str(tree.root)), _Compiled)
    assert len(record.files) == 1 and all(not getattr(n, "files", ()) for n in record.nodes)
    stored = [n for n in record.nodes if n.kind == "layer" and n.line.startswith("ADD")]
    assert stored and all(not any(k.startswith("file:") for k in n.inputs) for n in stored)
    assert sum(k.startswith("file:") for k in first.inputs) == 2, "made again from the files"


def test_issue_16_an_edited_added_file_changes_the_inputs_of_a_stored_graph(tree):
    _, before = warm(shared_folder(tree))
    (tree.root / "chutes/data/two.txt").write_text("changed")
    after = tree.compile()
    old, new = adds(before)[0].inputs, adds(after)[0].inputs
    assert old["file:chutes/data/two.txt"] != new["file:chutes/data/two.txt"]
    assert old["file:chutes/data/one.txt"] == new["file:chutes/data/one.txt"]
    settle(tree.root)
    tree.compile()
    again = tree.compile()
    assert again.from_cache and adds(again)[0].inputs == new


def test_issue_16_a_stored_graph_whose_references_do_not_hold_is_a_miss(tree):
    fresh, _ = warm(shared_folder(tree))
    scope = scope_id(str(tree.root))
    record = tree.store.load_struct("compiled", scope, _Compiled)
    bad = msgspec.structs.replace(record, refs=[len(record.files) + 3] * len(record.refs))
    tree.store.save_struct("compiled", scope, bad)
    again = tree.compile()
    assert not again.from_cache
    assert [k for k, _ in again.items()] == [k for k, _ in fresh.items()]
    assert tree.compile().from_cache, "the graph compiled again was stored again"


def test_issue_16_a_stored_graph_of_another_format_is_a_miss(tree):
    warm(shared_folder(tree))
    scope = scope_id(str(tree.root))
    record = tree.store.load_struct("compiled", scope, _Compiled)
    tree.store.save_struct("compiled", scope, msgspec.structs.replace(record, version=2))
    assert not tree.compile().from_cache
