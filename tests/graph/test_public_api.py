"""The public faces of ``chutes_build.graph`` and ``chutes_build.cache``: sorted, complete."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import types

import pytest

import chutes_build.cache
import chutes_build.graph


def isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (the order ruff's RUF022 keeps)."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("package", [chutes_build.graph, chutes_build.cache])
def test_all_is_sorted_and_complete(package):
    assert package.__all__ == sorted(package.__all__, key=isort_order)
    public = {
        name for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }  # fmt: skip
    assert public == set(package.__all__)


def test_cache_imports_neither_graph_nor_definitions():
    folder = pathlib.Path(chutes_build.cache.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                assert node.module == "_errors", f"{path.name} imports ..{node.module}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith(("chutes_build", "networkx")) for a in node.names)


def test_planning_does_not_import_networkx():
    code = (
        "import sys, chutes_build.graph; "
        "print([m for m in sys.modules if m.startswith('networkx')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
