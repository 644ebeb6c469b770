"""The ``graph``, ``plan``, ``why`` and ``cache`` commands, run through the CLI entry point."""

from __future__ import annotations

import json

import pytest

from chutes_build.cache import ActionResult, DiskStore
from chutes_build.cli import main
from chutes_build.graph import compile_workspace, record_run, result_key

from .conftest import chute_file


@pytest.fixture
def ws(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("CHUTES_BUILD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tree.root)
    tree.write(
        "chutes/a/chute_a.py", chute_file("alpha", ".apt_install(['curl']).run_command('echo a')")
    )
    tree.write("chutes/b/chute_b.py", chute_file("beta", ".apt_install(['curl'])"))
    tree.store = DiskStore(str(tmp_path / "cache"))
    return tree


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def build(tree) -> None:
    graph = compile_workspace(tree.workspace, None, tree.store)
    for key in graph.keys():
        tree.store.put_action(result_key(node := graph.node(key)), ActionResult(kind=node.kind))
    record_run(tree.store, graph)


def test_plan_json(ws, capsys):
    code, out, _ = run(capsys, "plan", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["dirty_chutes"] == ["alpha", "beta"]
    assert {(n["status"], n["reason"]) for n in data["nodes"]} == {("dirty", "never built")}
    assert {"key", "kind", "label", "status", "reason"} <= set(data["nodes"][0])
    build(ws)
    ws.write(
        "chutes/a/chute_a.py",
        chute_file("alpha", ".apt_install(['curl']).run_command('echo b')"),
        age=5,
    )
    data = json.loads(run(capsys, "plan", "--json")[1])
    assert data["summary"]["dirty_chutes"] == ["alpha"]
    layer = next(n for n in data["nodes"] if n["status"] == "dirty" and n["kind"] == "layer")
    assert layer["reason"] == "directive changed: 'RUN echo a' -> 'RUN echo b'"


def test_plan_human(ws, capsys):
    build(ws)
    code, out, _ = run(capsys, "plan")
    assert code == 0 and "9 nodes: 9 cached, 0 dirty" in out


def test_plan_reports_load_errors_and_fails(ws, capsys):
    ws.write("chutes/c/chute_c.py", "import nothing_here\n")
    code, out, err = run(capsys, "plan", "--json")
    assert code == 1
    assert json.loads(out)["errors"][0]["file"] == "chutes/c/chute_c.py"
    assert "chutes/c/chute_c.py" in err and "ModuleNotFoundError" in err


@pytest.mark.parametrize(
    "fmt, start",
    [("dot", "digraph"), ("mermaid", "flowchart"), ("json", "{"), ("html", "<!DOCTYPE html>")],
)
def test_graph_formats(ws, capsys, fmt, start):
    code, out, _ = run(capsys, "graph", "--format", fmt)
    assert code == 0 and out.startswith(start)


def test_graph_tree_to_a_file(ws, capsys, tmp_path):
    code, _, err = run(capsys, "graph", "--output", str(tmp_path / "g.txt"))
    assert code == 0 and "wrote" in err
    text = (tmp_path / "g.txt").read_text()
    assert (
        text.startswith("alpha  (chutes/a/chute_a.py:chute)")
        and "[" not in text.splitlines()[0][:30]
    )


def test_graph_bad_format(ws, capsys):
    code, _, err = run(capsys, "graph", "--format", "png")
    assert code == 1 and "unknown graph format 'png'" in err


def test_why(ws, capsys):
    build(ws)
    ws.write("chutes/b/chute_b.py", chute_file("beta", ".apt_install(['curl', 'git'])"), age=5)
    code, out, _ = run(capsys, "why", "beta", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["node"]["status"] == "dirty"
    changed = {i["name"] for i in data["inputs"] if i["status"] != "unchanged"}
    assert changed == {"image", "code:chutes/b/chute_b.py"}
    code, out, _ = run(capsys, "why", "beta")
    assert "dirty: chutes/b/chute_b.py changed; upstream image 'me/beta:1' changed" in out


def test_why_unknown_target(ws, capsys):
    code, _, err = run(capsys, "why", "nothing")
    assert code == 1 and "no node or chute matches 'nothing'" in err


def test_cache_stats_and_gc(ws, capsys):
    build(ws)
    run(capsys, "plan")
    code, out, _ = run(capsys, "cache", "stats", "--json")
    data = json.loads(out)
    assert code == 0 and data["entries"]["ac"] == 9 and data["hit_rates"]["ac"] > 0
    code, out, _ = run(capsys, "cache", "gc", "--max-size", "0", "--json")
    assert code == 0 and json.loads(out)["kept"] == 0
    assert json.loads(run(capsys, "cache", "stats", "--json")[1])["total_bytes"] == 0
    code, _, err = run(capsys, "cache", "gc", "--max-size", "lots")
    assert code == 1 and "invalid size 'lots'" in err


def test_plan_of_some_paths_only(ws, capsys):
    code, out, _ = run(capsys, "plan", "--json", "chutes/b")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["dirty_chutes"] == ["beta"]
    assert data["summary"]["imported"] == 1
