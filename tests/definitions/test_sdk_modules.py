"""Every module of the chutes SDK 0.6.9-0.6.11 is handled: provided, or refused with a fix.

The module list is read from the reference SDK's installed source (``scripts/sdk-venv``),
plus what 0.6.11rc2's wheel adds. A provided module carries the SDK module's public
classes; an unavailable one fails naming the module and a specific replacement.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
from pathlib import Path

import pytest

from chutes_build import DefinitionError
from chutes_build.compat._sdk import SDK_MODULES, sdk_aliases
from chutes_build.compat._sdk_modules import TEMPLATE_MODULES, unavailable_fix

from .conftest import clean_env

#: Modules of SDK 0.6.11rc2 that 0.6.9 lacks (from the wheel's file list).
ADDED_AFTER_0_6_9 = ("chutes.entrypoint.upload_logo",)
#: Public SDK classes a chute file has no use for (the directives' internal base).
NOT_NEEDED = {"chutes.image.directive": {"BaseDirective"}}
GENERIC = unavailable_fix("chutes.not_a_module")


@pytest.fixture(scope="module")
def sdk_source(sdk_python: str) -> Path:
    code = "import importlib.util; print(importlib.util.find_spec('chutes').origin)"
    proc = subprocess.run(
        [sdk_python, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip()).parent


def sdk_modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def public_classes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")}


def test_issue_13_the_sdk_source_lists_the_known_modules(sdk_source: Path) -> None:
    names = sdk_modules(sdk_source)
    assert {"chutes.chute.cord", "chutes.image.standard.vllm", "chutes.util.schema"} <= set(names)
    assert len(names) > 50


def test_issue_13_every_sdk_module_is_provided_or_refused_with_a_fix(sdk_source: Path) -> None:
    modules = dict.fromkeys(sdk_modules(sdk_source)) | dict.fromkeys(ADDED_AFTER_0_6_9)
    provided, refused = [], []
    for name in modules:
        with sdk_aliases():
            try:
                importlib.import_module(name)
            except DefinitionError as exc:
                pattern = rf"^module '{re.escape(name)}' of the chutes SDK is not available"
                assert re.match(pattern, exc.message), exc.message
                assert exc.fix and exc.fix != GENERIC, (name, exc.fix)
                refused.append(name)
                continue
        assert name in SDK_MODULES, name
        provided.append(name)
    assert set(provided) == set(SDK_MODULES)
    assert {"chutes.chute.cord", "chutes.exception", "chutes.util.context"} <= set(provided)
    assert {"chutes.entrypoint.run", "chutes.util.auth", "chutes.cli"} <= set(refused)


def test_issue_13_provided_modules_carry_the_sdks_public_classes(sdk_source: Path) -> None:
    for name, path in sdk_modules(sdk_source).items():
        if name not in SDK_MODULES or name in TEMPLATE_MODULES:
            continue
        with sdk_aliases():
            module = importlib.import_module(name)
            missing = public_classes(path) - set(vars(module)) - NOT_NEEDED.get(name, set())
        assert not missing, (name, missing)


def test_issue_13_chute_cord_and_friends_load(tmp_path: Path) -> None:
    from chutes_build.workspace._workspace import find_workspace, load_paths

    path = tmp_path / "cords.py"
    path.write_text(
        "from chutes.chute import Chute\n"
        "from chutes.chute.cord import Cord\n"
        "from chutes.chute.job import Port\n"
        "from chutes.exception import InvalidPath\n"
        "from chutes.util.context import is_local\n"
        "from chutes.image.directive import DirectiveType\n"
        "chute = Chute(username='u', name='cords', image='parachutes/python:3.12')\n"
        "ports = [Port(name='http', port=8080, proto='tcp')]\n"
        "local = is_local()\n"
        "kinds = [t.value for t in DirectiveType]\n"
        "try:\n"
        "    chute.cord(path='/Bad Path')\n"
        "except InvalidPath:\n"
        "    caught = True\n"
    )
    loaded = load_paths(find_workspace(str(path)), [str(path)])[0]
    assert loaded.error is None, str(loaded.error)
    module = loaded.module
    assert module.Cord.__name__ == "Cord" and module.caught and module.local
    assert module.ports[0].port == 8080 and "RUN" in module.kinds
