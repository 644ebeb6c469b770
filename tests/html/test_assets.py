"""The HTML view's assets: real files, inlined into the page, shipped in the wheel.

The wheel test builds and installs the distribution the way a user gets it and
renders a page from that installed copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chutes_build.graph import _html_assets
from chutes_build.graph._html import render_html
from tests.conftest import REPO

from ._graphs import small_graph

ASSETS = Path(REPO) / "chutes_build" / "graph" / "assets"


def test_the_page_inlines_the_asset_files() -> None:
    page = render_html(small_graph())
    script = "\n".join((ASSETS / name).read_text(encoding="utf-8") for name in _html_assets.SCRIPTS)
    assert f"<script>{script}</script>" in page
    assert f"<style>{(ASSETS / 'view.css').read_text(encoding='utf-8')}</style>" in page


def test_an_asset_that_would_end_its_element_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "x.js").write_text('const s = "</SCRIPT>";\n')
    monkeypatch.setattr(_html_assets, "files", lambda package: tmp_path)
    with pytest.raises(ValueError, match=r"^assets/x\.js contains '</script', which would end"):
        _html_assets.asset_text("x.js")


RENDER_FROM_INSTALLED = """
import json, sys
sys.path.insert(0, sys.argv[1])
import chutes_build.graph
from chutes_build.graph._html import render_html
nodes = json.load(sys.stdin)
print(json.dumps({"file": chutes_build.graph.__file__, "page": render_html(nodes)}))
"""


def test_an_installed_wheel_carries_the_assets_and_renders_the_page(tmp_path: Path) -> None:
    src, dist, site = tmp_path / "src", tmp_path / "dist", tmp_path / "site"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("chutes_build", "chutes_runtime", "chutes_recipes"):
        shutil.copytree(Path(REPO) / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(Path(REPO) / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run = {"capture_output": True, "text": True, "timeout": 300, "check": True}
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", dist, src], **run)
    (wheel,) = dist.glob("chutes_build-*.whl")
    shipped = {f"chutes_build/graph/assets/{path.name}" for path in ASSETS.iterdir()}
    assert shipped <= set(zipfile.ZipFile(wheel).namelist())
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", "-t", site, wheel], **run)
    nodes = small_graph()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    args = [sys.executable, "-I", "-c", RENDER_FROM_INSTALLED, site]
    answer = subprocess.run(args, env=env, cwd=tmp_path, input=json.dumps(nodes), **run)
    rendered = json.loads(answer.stdout)
    assert Path(rendered["file"]).is_relative_to(site)
    assert rendered["page"] == render_html(nodes)
