"""What ships into images is an allow-list: ``IMAGE_PACKAGES``, and the runtime needs nothing else.

The runtime layer writes a wheel of the folders named in
``chutes_build.engine.IMAGE_PACKAGES``; a new subpackage stays out of images until
it is named there. These tests import the runtime in a fresh interpreter, load SDK
chute files (a template one included) and a native one as a container would, and
check that every module of ours it loaded lies in an allowed folder and that no
engine dependency was imported.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from chutes_build.engine import IMAGE_PACKAGES, package_files

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "compat" / "corpus"
OURS = ("chutes_build", "chutes_runtime", "chutes_recipes")
ENGINE_DEPENDENCIES = ("trio", "networkx", "httpx", "typer", "rich", "xxhash")

_PROBE = """
import json, sys
import chutes_runtime.__main__
from chutes_runtime._loader import load_target
for target in sys.argv[1:]:
    load_target(target)
print(json.dumps({
    name: getattr(module, "__file__", None) for name, module in sys.modules.items()
}))
"""


def _loaded(tmp_path, *targets: str) -> dict[str, str | None]:
    env = {**os.environ, "CHUTES_EXECUTION_CONTEXT": "REMOTE"}  # as inside an instance
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *targets], capture_output=True, text=True,
        cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def _folder(name: str, is_package: bool) -> str:
    parts = name.split(".")
    return "/".join(parts if is_package else parts[:-1])


def test_issue_14_the_runtime_loads_only_allowed_packages(tmp_path):
    native = tmp_path / "native.py"
    native.write_text(
        "from chutes_build import Chute, Image\n"
        "image = Image(username='u', name='n', tag='1')\n"
        "chute = Chute(username='u', name='n', image=image)\n"
        "@chute.cord()\nasync def echo(self, text: str) -> str:\n    return text\n"
    )
    targets = [
        f"{CORPUS / 'chute_01_echo_pydantic.py'}:chute",
        f"{CORPUS / 'chute_03_vllm_template.py'}",
        f"{native}:chute",
    ]
    loaded = _loaded(tmp_path, *targets)
    ours = {n: f for n, f in loaded.items() if n.split(".")[0] in OURS}
    assert "chutes_recipes.vllm" in ours and "chutes_build.compat" in ours
    outside = sorted(
        n for n, f in ours.items()
        if _folder(n, bool(f) and f.endswith("__init__.py")) not in IMAGE_PACKAGES
    )  # fmt: skip
    assert outside == []
    heavy = sorted(n for n in loaded if n.split(".")[0] in ENGINE_DEPENDENCIES)
    assert heavy == []


def test_issue_14_the_image_wheel_holds_exactly_the_allowed_folders():
    names = [name for name, _ in package_files()]
    folders = {name.rpartition("/")[0] for name in names}
    assert folders == set(IMAGE_PACKAGES)
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    for folder in IMAGE_PACKAGES:
        sources = {p.name for p in (root / folder).glob("*.py")}
        shipped = {n.rpartition("/")[2] for n in names if n.rpartition("/")[0] == folder}
        assert sources <= shipped, folder


def test_issue_14_a_new_subpackage_stays_out_of_images(tmp_path, monkeypatch):
    """A folder not named in the allow-list is not shipped, whatever it holds."""
    import chutes_build

    site = tmp_path / "site"
    for folder in (*IMAGE_PACKAGES, "chutes_build/newthing"):
        (site / folder).mkdir(parents=True, exist_ok=True)
        (site / folder / "__init__.py").write_text("")
    monkeypatch.setattr(chutes_build, "__file__", str(site / "chutes_build" / "__init__.py"))
    names = [name for name, _ in package_files()]
    assert "chutes_build/__init__.py" in names
    assert [n for n in names if n.startswith("chutes_build/newthing")] == []
