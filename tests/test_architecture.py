"""The shape of the code: public faces, imports that point down, no reaching into private modules.

Every package re-exports its public names with a sorted ``__all__`` (constants,
classes, functions: ruff's RUF022 order). A module may import a private module
(``_name``) only of its own package; another package's names come from that
package's ``__init__``. Packages depend on each other only along ``LAYERS``.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ("chutes_build", "chutes_runtime", "chutes_recipes")

#: Which packages each package may import (besides itself). ``chutes_build`` is the
#: public face of the definitions; the CLI sits on top and may import anything.
LAYERS = {
    "chutes_build.core": set(),
    "chutes_build.noop": set(),
    "chutes_build.definitions": {"chutes_build.core"},
    "chutes_build.compat": {"chutes_build.core", "chutes_build.definitions"},
    "chutes_build.workspace": {
        "chutes_build.core", "chutes_build.definitions", "chutes_build.compat",
    },
    "chutes_build.cache": {"chutes_build.core", "chutes_build.noop"},
    "chutes_build.graph": {
        "chutes_build.core", "chutes_build.definitions", "chutes_build.workspace",
        "chutes_build.cache",
    },
    "chutes_build.platform": {
        "chutes_build.core", "chutes_build.definitions", "chutes_build.workspace",
        "chutes_build.cache",
    },
    "chutes_build.engine": {
        "chutes_build", "chutes_build.core", "chutes_build.definitions",
        "chutes_build.workspace", "chutes_build.cache", "chutes_build.graph",
        "chutes_build.platform", "chutes_build.noop",
    },
    "chutes_build": {"chutes_build.core", "chutes_build.definitions"},
    "chutes_runtime": {"chutes_build.core", "chutes_build.definitions", "chutes_build.workspace"},
    "chutes_recipes": {"chutes_build"},
}  # fmt: skip


def _modules():
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            yield path, ".".join(parts), is_package


def _imports(path: pathlib.Path, module: str, is_package: bool):
    """``(line, imported name)`` of every import in ``path``, names made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                name = f"{target}.{alias.name}"
                yield node.lineno, name if _is_module(name) else target
                yield node.lineno, name


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _package_of(name: str) -> str:
    """The package a dotted name belongs to: a subpackage of chutes_build, else the top."""
    parts = name.split(".")
    if parts[0] == "chutes_build" and len(parts) > 1:
        if (ROOT / "chutes_build" / parts[1] / "__init__.py").exists():
            return f"chutes_build.{parts[1]}"
    return parts[0]


def _private_owner(name: str) -> str | None:
    """The package whose private module ``name`` reaches into, if it does."""
    parts = name.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            is_module = _is_module(".".join(parts[: i + 1]))
            return owner if is_module or parts[0] not in SOURCES else None
    return None


def test_issue_14_no_module_imports_a_private_module_of_another_package():
    found = []
    for path, module, is_package in _modules():
        own = module if is_package else module.rpartition(".")[0]
        for line, name in _imports(path, module, is_package):
            owner = _private_owner(name)
            if owner is not None and owner != own:
                found.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    assert found == []


def test_issue_14_packages_import_only_the_layers_below_them():
    found = []
    for path, module, is_package in _modules():
        mine = _package_of(module)
        allowed = LAYERS.get(mine)
        if allowed is None:  # the CLI: anything
            continue
        for line, name in _imports(path, module, is_package):
            theirs = _package_of(name)
            if theirs in LAYERS and theirs != mine and theirs not in allowed:
                found.append(f"{path.relative_to(ROOT)}:{line}: {mine} imports {theirs}")
    assert sorted(set(found)) == []


def test_the_private_import_check_finds_a_reach_into_another_package(tmp_path):
    """The checks above would see a violation: parse a module that reaches in."""
    path = tmp_path / "m.py"
    path.write_text("from ..engine._docker import DockerClient\nfrom ._keys import node_key\n")
    names = [n for _, n in _imports(path, "chutes_build.graph._m", False)]
    owners = {_private_owner(n) for n in names} - {None}
    assert owners == {"chutes_build.engine", "chutes_build.graph"}


def _packages():
    for path, module, is_package in _modules():
        if is_package and "__all__" in path.read_text():
            yield module


def _order(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", list(_packages()))
def test_all_is_sorted_and_complete(name):
    package = importlib.import_module(name)
    assert package.__all__ == sorted(package.__all__, key=_order)
    public = {
        n for n, value in vars(package).items()
        if not n.startswith("_") and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", name).startswith(name)
    }  # fmt: skip
    assert public - {"annotations", "TYPE_CHECKING"} <= set(package.__all__)
    assert [n for n in package.__all__ if not hasattr(package, n)] == []
