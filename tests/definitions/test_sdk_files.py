"""Files written for the ``chutes`` SDK load unmodified, without the SDK installed."""

from __future__ import annotations

import importlib.util
import re
import sys
import types

from chutes_build import Chute, Image, NodeSelector
from chutes_build.compat._sdk import SDK_MODULES, SDKImage
from chutes_build.workspace._workspace import find_workspace, load_paths

from .conftest import FIXTURES

SDK_FILES = FIXTURES / "sdk_files"


def load(name: str):
    path = str(SDK_FILES / name)
    return load_paths(find_workspace(path), [path])[0]


def test_the_sdk_is_not_installed_here() -> None:
    """The loads below prove nothing if the real SDK could answer the imports."""
    assert "chutes" not in sys.modules
    assert importlib.util.find_spec("chutes") is None


def test_every_aliased_module_loads() -> None:
    loaded = load("every_import.py")
    assert loaded.error is None, str(loaded.error)
    module = loaded.module
    assert module.image_class is SDKImage and module.same_selector
    assert all(isinstance(t, types.ModuleType) for t in module.templates)
    assert [t.__name__ for t in module.templates] == [
        "chutes.chute.template.vllm",
        "chutes.chute.template.sglang",
        "chutes.chute.template.embedding",
        "chutes.chute.template.diffusion",
    ]
    [(attr, chute)] = loaded.chutes  # the ChutePack holds the same chute: listed once
    assert attr == "chute" and isinstance(chute, Chute) and isinstance(chute.image, Image)
    assert isinstance(chute.node_selector, NodeSelector)
    assert [c.public_api_path for c in chute.cords] == ["/echo"]


def test_sdk_directive_classes_render_as_the_sdk_does() -> None:
    module = load("every_import.py").module
    assert [str(d) for d in module.directives] == [
        "FROM ubuntu:22.04",
        "RUN echo hi",
        "ENV HF_HOME=/cache",
        "RUN apt-get update",
        "RUN apt-get -y install git curl",
        "RUN apt-get -y remove vim",
        "WORKDIR /app",
        "USER chutes",
        "MAINTAINER ops",
        'ENTRYPOINT ["python", "-m", "app"]',
        'ENTRYPOINT ["python"]',
        "ADD --chown=chutes:chutes data/hello.txt /app/hello.txt",
    ]


def test_sdk_image_calls_mutate_in_place() -> None:
    module = load("every_import.py").module
    assert str(module.image).splitlines() == [
        "FROM parachutes/python:3.12",
        "RUN apt-get -y install git",
        "ADD data /app/data",
        "RUN echo in place",
    ]


def test_other_sdk_modules_fail_naming_the_module() -> None:
    for name, module in (
        ("other_module.py", "chutes.entrypoint.run"),
        ("util_module.py", "chutes.util.schema"),
    ):
        error = load(name).error
        assert error is not None
        pattern = (
            rf"^.*{re.escape(name)}:2: module '{re.escape(module)}' "
            r"of the chutes SDK is not available in chutes-build\n  fix: "
        )
        assert re.match(pattern, str(error)), str(error)


def test_no_chutes_module_is_left_behind() -> None:
    load("every_import.py")
    load("other_module.py")
    assert not [name for name in sys.modules if name == "chutes" or name.startswith("chutes.")]


def test_an_installed_sdk_in_sys_modules_is_restored(monkeypatch) -> None:
    fake = types.ModuleType("chutes")
    fake_image = types.ModuleType("chutes.image")
    monkeypatch.setitem(sys.modules, "chutes", fake)
    monkeypatch.setitem(sys.modules, "chutes.image", fake_image)
    loaded = load("every_import.py")
    assert loaded.error is None and loaded.module.image_class is SDKImage
    assert sys.modules["chutes"] is fake and sys.modules["chutes.image"] is fake_image
    assert not [n for n in sys.modules if n.startswith("chutes.") and n != "chutes.image"]


def test_sdk_module_list_is_what_the_finder_answers() -> None:
    assert {"chutes.image", "chutes.chute", "chutes.chute.node_selector"} <= set(SDK_MODULES)
    assert {
        f"chutes.chute.template.{t}" for t in ("vllm", "sglang", "embedding", "diffusion")
    } <= set(SDK_MODULES)


def test_import_module_of_another_sdk_module_names_the_users_line(tmp_path) -> None:
    path = tmp_path / "dynamic.py"
    path.write_text(
        "import importlib\n"
        "from chutes.chute import Chute\n"
        "\n"
        "importlib.import_module('chutes.util.auth')\n"
    )
    error = load_paths(find_workspace(str(path)), [str(path)])[0].error
    assert re.match(r"^.*dynamic\.py:4: module 'chutes\.util\.auth' of the chutes SDK", str(error))
