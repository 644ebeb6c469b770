"""Issue 16: warm runs reuse the workspace scan, the ``add()`` selections and the compiled
graph, and a reuse never hides a change.

Each test settles the tree (dates every folder and file back, so the caches may trust
their states), checks that a second compile is served from the caches, then makes one
change and checks that the graph shows it.
"""

from __future__ import annotations

import os

import msgspec
import pytest

from chutes_build.core import GraphError
from chutes_build.definitions import SelectionCache, select_files, using_selections
from chutes_build.graph import plan, render
from chutes_build.workspace import ScanCache

CHUTE = """\
from chutes_build import Chute, Image, NodeSelector

image = Image(username="u", name="{name}", tag="1").add("{source}", "/app/data")
chute = Chute(username="u", name="{name}", image=image,
              node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24))
"""


def settle(root, age: float = 30.0) -> None:
    """Date every folder and file under ``root`` (and ``root``) ``age`` seconds back."""
    for folder, dirs, files in os.walk(root):
        for name in files + dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                stamp = os.stat(path).st_mtime - age
                os.utime(path, (stamp, stamp))
    stamp = os.stat(root).st_mtime - age
    os.utime(root, (stamp, stamp))


def added(graph) -> dict[str, str]:
    """``{path: digest}`` of every file the graph's ``add`` layers send."""
    return {f["path"]: f["digest"] for attrs in graph.nodes("layer") for f in attrs.files}


@pytest.fixture
def ws(tree):
    tree.write("chutes/a/chute_a.py", CHUTE.format(name="a", source="data"))
    tree.write("chutes/a/data/one.txt", "1")
    tree.write("chutes/a/data/sub/two.txt", "2")
    return tree


def warm(tree):
    """Compile, settle, compile twice more; the last compile must come from the caches."""
    tree.compile()
    settle(tree.root)
    tree.compile()
    graph = tree.compile()
    assert graph.from_cache, "the warm compile was not served from the graph cache"
    return graph


def test_issue_16_a_warm_compile_is_the_graph_a_fresh_compile_makes(ws):
    fresh = ws.compile()
    settle(ws.root)
    ws.compile()
    cached = ws.compile()
    assert cached.from_cache and not fresh.from_cache
    assert [k for k, _ in cached.items()] == [k for k, _ in fresh.items()]
    for key, node in fresh.items():  # the same kind and fields (tuples come back as lists)
        back = cached.node(key)
        assert type(back) is type(node)
        assert msgspec.json.encode(back) == msgspec.json.encode(node)
    assert plan(cached, ws.store).summary == plan(fresh, ws.store).summary
    for fmt in ("json", "dot", "tree"):
        assert render(cached, fmt) == render(fresh, fmt)
    images = list(fresh.keys("image"))
    assert [cached.dockerfile(k) for k in images] == [fresh.dockerfile(k) for k in images]


def test_issue_16_a_new_file_in_an_added_folder_is_seen(ws):
    before = warm(ws)
    ws.write("chutes/a/data/sub/three.txt", "3", age=0)
    after = ws.compile()
    assert not after.from_cache
    assert "chutes/a/data/sub/three.txt" in added(after)
    assert "chutes/a/data/sub/three.txt" not in added(before)


def test_issue_16_an_edited_added_file_is_seen(ws):
    before = warm(ws)
    (ws.root / "chutes/a/data/one.txt").write_text("changed")
    after = ws.compile()
    assert added(after)["chutes/a/data/one.txt"] != added(before)["chutes/a/data/one.txt"]


def test_issue_16_a_renamed_folder_inside_an_added_folder_is_seen(ws):
    warm(ws)
    os.rename(ws.root / "chutes/a/data/sub", ws.root / "chutes/a/data/moved")
    files = added(ws.compile())
    assert "chutes/a/data/moved/two.txt" in files and "chutes/a/data/sub/two.txt" not in files


def test_issue_16_a_removed_added_folder_is_an_error_not_a_stale_graph(ws):
    warm(ws)
    os.rename(ws.root / "chutes/a/data", ws.root / "chutes/a/gone")
    graph = ws.compile()
    assert [str(e) for _, e in graph.errors] and not graph.from_cache
    assert isinstance(graph.errors[0][1], GraphError)


def test_issue_16_a_changed_ignore_file_is_seen(ws):
    warm(ws)
    ws.write(".dockerignore", "**/two.txt\n", age=0)
    assert "chutes/a/data/sub/two.txt" not in added(ws.compile())


def test_issue_16_a_changed_file_mode_is_seen(ws):
    warm(ws)
    os.chmod(ws.root / "chutes/a/data/one.txt", 0o755)
    modes = {f["path"]: f["mode"] for a in ws.compile().nodes("layer") for f in a.files}
    assert modes["chutes/a/data/one.txt"] == 0o755


def test_issue_16_a_swapped_symlink_in_an_added_folder_is_seen(tree):
    tree.write("chutes/a/chute_a.py", CHUTE.format(name="a", source="data"))
    tree.write("chutes/a/v1/cfg.json", "1")
    tree.write("chutes/a/v2/cfg.json", "2")
    (tree.root / "chutes/a/data").mkdir()
    os.symlink("../v1/cfg.json", tree.root / "chutes/a/data/cfg.json")
    tree.compile()
    settle(tree.root)
    before = added(tree.compile())
    os.remove(tree.root / "chutes/a/data/cfg.json")
    os.symlink("../v2/cfg.json", tree.root / "chutes/a/data/cfg.json")
    after = added(tree.compile())
    assert list(after) == list(before) == ["chutes/a/data/cfg.json"]
    assert after["chutes/a/data/cfg.json"] != before["chutes/a/data/cfg.json"]


def test_issue_16_a_swapped_symlink_to_a_chute_folder_is_seen(tree):
    tree.write("chutes/v1/chute_a.py", CHUTE.format(name="a", source="data.txt"))
    tree.write("chutes/v1/data.txt", "a")
    tree.write("chutes/v2/chute_b.py", CHUTE.format(name="b", source="data.txt"))
    tree.write("chutes/v2/data.txt", "b")
    tree.config()
    tree.write("pyproject.toml", (tree.root / "pyproject.toml").read_text().replace(
        '"chutes/**/chute_*.py"', '"current/*.py"'))  # fmt: skip
    os.symlink("chutes/v1", tree.root / "current")
    tree.compile()
    settle(tree.root)
    assert [a.chute for a in tree.compile().nodes("deploy")] == ["a"]
    os.remove(tree.root / "current")
    os.symlink("chutes/v2", tree.root / "current")
    assert [a.chute for a in tree.compile().nodes("deploy")] == ["b"]


def test_issue_16_a_symlink_swapped_to_outside_the_workspace_is_refused(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    tree.write("chutes/a/chute_a.py", CHUTE.format(name="a", source="data/*"))
    tree.write("chutes/a/v1/one.txt", "1")
    (tree.root / "chutes/a/data").mkdir()
    os.symlink("../v1/one.txt", tree.root / "chutes/a/data/one.txt")
    tree.compile()
    settle(tree.root)
    assert tree.compile().errors == []
    os.remove(tree.root / "chutes/a/data/one.txt")
    os.symlink(outside / "secret.txt", tree.root / "chutes/a/data/one.txt")
    errors = [str(e) for _, e in tree.compile().errors]
    assert errors and "reaches outside the workspace" in errors[0]


def test_issue_16_a_new_chute_file_in_a_globbed_folder_is_found(ws):
    warm(ws)
    ws.write("chutes/b/chute_b.py", CHUTE.format(name="b", source="data.txt"), age=0)
    ws.write("chutes/b/data.txt", "b", age=0)
    graph = ws.compile()
    assert sorted(a.chute for a in graph.nodes("deploy")) == ["a", "b"]


def test_issue_16_a_renamed_chute_folder_is_found_under_its_new_name(ws):
    warm(ws)
    os.rename(ws.root / "chutes/a", ws.root / "chutes/renamed")
    graph = ws.compile()
    assert [a.file for a in graph.nodes("deploy")] == ["chutes/renamed/chute_a.py"]


def test_issue_16_a_changed_pyproject_is_seen(ws):
    warm(ws)
    ws.write("chutes/a/other_a.py", CHUTE.format(name="other", source="data"))
    ws.config()
    ws.write("pyproject.toml", (ws.root / "pyproject.toml").read_text().replace(
        '"chutes/**/chute_*.py"', '"chutes/**/*_a.py"'), age=0)  # fmt: skip
    names = sorted(a.chute for a in ws.compile().nodes("deploy"))
    assert names == ["a", "other"]


def test_issue_16_changed_base_images_are_seen(ws):
    warm(ws)
    ws.config('base-images = { "parachutes/python:3.12" = "local/python:1" }')
    graph = ws.compile()
    assert not graph.from_cache
    assert [a.ref for a in graph.nodes("base")] == ["local/python:1"]


def test_issue_16_an_edited_chute_file_is_seen(ws):
    warm(ws)
    ws.write("chutes/a/chute_a.py", CHUTE.format(name="a2", source="data"), age=0)
    assert [a.chute for a in ws.compile().nodes("deploy")] == ["a2"]


# -- the caches on their own ------------------------------------------------------------------


def test_issue_16_the_scan_cache_reuses_a_settled_scan_and_sees_each_change(tmp_path):
    root = tmp_path / "ws"
    (root / "chutes" / "a").mkdir(parents=True)
    (root / "chutes" / "a" / "one.py").write_text("")
    settle(root)
    scans = ScanCache()
    first = scans.scan(str(root), ["chutes/**/*.py"], [])
    assert scans.scan(str(root), ["chutes/**/*.py"], []) == first and scans.hits == 1
    (root / "chutes" / "a" / "deep").mkdir()
    (root / "chutes" / "a" / "deep" / "two.py").write_text("")
    found = scans.scan(str(root), ["chutes/**/*.py"], [])
    assert sorted(os.path.basename(p) for p in found) == ["one.py", "two.py"]
    assert scans.hits == 1
    assert scans.scan(str(root), ["chutes/**/*.py"], ["**/deep/*"]) == first


def test_issue_16_a_scan_that_met_a_link_is_not_remembered(tmp_path):
    root = tmp_path / "ws"
    (root / "real").mkdir(parents=True)
    (root / "real" / "one.py").write_text("")
    os.symlink("real", root / "linked")
    settle(root)
    scans = ScanCache()
    scans.scan(str(root), ["**/*.py"], [])
    assert scans.entries == {}


def test_issue_16_a_fresh_folder_is_not_remembered_until_it_settles(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "one.txt").write_text("1")
    cache = SelectionCache()
    with using_selections(cache):
        select_files("data", str(tmp_path), str(tmp_path))
    assert cache.entries == {}
    settle(tmp_path)
    with using_selections(cache):
        first = select_files("data", str(tmp_path), str(tmp_path))
        again = select_files("data", str(tmp_path), str(tmp_path))
    assert first == again == (["data/one.txt"], []) and cache.hits == 1


def test_issue_16_the_selection_cache_sees_a_new_match_of_a_glob(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.json").write_text("1")
    settle(tmp_path)
    cache = SelectionCache()
    with using_selections(cache):
        assert select_files("**/*.json", str(tmp_path), str(tmp_path))[0] == ["a/b/x.json"]
        (tmp_path / "a" / "b" / "c").mkdir()
        (tmp_path / "a" / "b" / "c" / "y.json").write_text("2")
        found = select_files("**/*.json", str(tmp_path), str(tmp_path))[0]
    assert found == ["a/b/c/y.json", "a/b/x.json"] and cache.hits == 0


def test_issue_16_selections_outside_a_cache_are_remembered_and_checked_too(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "one.txt").write_text("1")
    settle(tmp_path)
    assert select_files("data", str(tmp_path), str(tmp_path)) == (["data/one.txt"], [])
    assert select_files("data", str(tmp_path), str(tmp_path)) == (["data/one.txt"], [])
    (tmp_path / "data" / "two.txt").write_text("2")
    found = select_files("data", str(tmp_path), str(tmp_path))[0]
    assert found == ["data/one.txt", "data/two.txt"]


def test_issue_16_a_run_that_imported_files_does_not_store_its_graph(ws):
    settle(ws.root)
    first = ws.compile()
    assert first.imported and not first.from_cache
    second = ws.compile()
    assert not second.imported and not second.from_cache  # nothing stored by the first
    assert ws.compile().from_cache
