"""chutes_runtime's modules import each other without a cycle (deferred imports included)."""

from __future__ import annotations

import ast
import os

import chutes_runtime

PACKAGE = "chutes_runtime"
FOLDER = os.path.dirname(os.path.abspath(chutes_runtime.__file__))


def _imports(source: str, modules: set[str]) -> set[str]:
    """The package's modules one source imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            absolute = module == PACKAGE or module.startswith(PACKAGE + ".")
            if node.level > 1 or (node.level == 0 and not absolute):
                continue
            base = module.removeprefix(PACKAGE).lstrip(".")
            if base:
                found.add(base.split(".")[0])
            else:  # ``from . import _x``
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.split(".")[1])
    return found & modules


def import_graph(folder: str) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}`` for every ``.py`` file in ``folder``."""
    names = {name[:-3] for name in os.listdir(folder) if name.endswith(".py")}
    graph = {}
    for name in names:
        with open(os.path.join(folder, name + ".py"), encoding="utf-8") as handle:
            graph[name] = _imports(handle.read(), names) - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_issue_14_runtime_modules_import_without_a_cycle() -> None:
    graph = import_graph(FOLDER)
    assert "_app" in graph and "_passthrough" in graph["_app"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_issue_14_a_deferred_import_counts(tmp_path) -> None:
    (tmp_path / "_a.py").write_text("from ._b import x\n")
    (tmp_path / "_b.py").write_text("def x():\n    from chutes_runtime._c import y\n")
    (tmp_path / "_c.py").write_text("from . import _a\n")
    assert find_cycle(import_graph(str(tmp_path))) == ["_a", "_b", "_c", "_a"]
