"""The HTML view's assets: real files, linted by scripts/lint-assets, shipped in the wheel.

The lint tests run the real linters (node, eslint, css-tree) on the shipped
assets and on broken copies of them, and check that each problem is reported
with its file and line. The wheel test builds and installs the distribution
the way a user gets it and renders a page from that installed copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from chutes_build.graph import _html_assets
from chutes_build.graph._html import render_html
from tests.conftest import REPO, require

from ._graphs import small_graph

ASSETS = Path(REPO) / "chutes_build" / "graph" / "assets"
LINT = Path(REPO) / "scripts" / "lint-assets"

Lint = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def lint() -> Lint:
    """Run scripts/lint-assets with FILE arguments; fail or skip if it cannot start."""
    require(shutil.which("node") is not None, "node is not installed (scripts/test-deps)")

    def run(*files: Path | str, cwd: Path | str = REPO) -> subprocess.CompletedProcess:
        args = [str(LINT), *map(str, files)]
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)

    first = run()  # installs the locked linters on a new machine
    require(first.returncode != 2, f"scripts/lint-assets could not run: {first.stderr[-800:]}")
    return run


def broken_copy(tmp_path: Path, name: str, needle: str, replacement: str) -> tuple[Path, int]:
    """Copy assets/NAME into tmp_path with the first line holding NEEDLE replaced.

    Returns the copy and the 1-based number of the replaced line.
    """
    lines = (ASSETS / name).read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if needle in line)
    lines[number] = replacement + "\n"
    copy = tmp_path / name
    copy.write_text("".join(lines), encoding="utf-8")
    return copy, number + 1


def problems(result: subprocess.CompletedProcess) -> list[str]:
    return result.stdout.splitlines()


def test_the_shipped_assets_pass_the_linters(lint: Lint) -> None:
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    shipped = sorted(path.name for path in ASSETS.iterdir())
    assert shipped == ["graph.js", "ui.js", "view.css"]


def test_a_rerun_fetches_nothing(lint: Lint, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "npm"  # an npm that fails and leaves a mark when called
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path}/npm-called\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([LINT], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "npm-called").exists()


def test_each_script_is_linted_on_its_own(lint: Lint) -> None:
    result = lint(*(ASSETS / name for name in _html_assets.SCRIPTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_javascript_syntax_error_names_the_file_and_line(lint: Lint, tmp_path: Path) -> None:
    copy, line = broken_copy(tmp_path, "graph.js", "function rankNodes(", "  function (g) {")
    result = lint(copy.name, cwd=tmp_path)
    assert result.returncode == 1
    by_node = rf"graph\.js:{line}: SyntaxError: .+ \[node --check\]"
    by_eslint = rf"graph\.js:{line}:\d+: Parsing error: .+ \[syntax\]"
    for pattern in (by_node, by_eslint):
        assert any(re.fullmatch(pattern, p) for p in problems(result)), result.stdout


def test_an_undefined_name_is_an_eslint_error(lint: Lint, tmp_path: Path) -> None:
    copy, line = broken_copy(tmp_path, "ui.js", "    markSelection();", "    frobnicate();")
    result = lint(copy, cwd=tmp_path)
    assert result.returncode == 1
    pattern = rf"{re.escape(str(copy))}:{line}:5: 'frobnicate' is not defined\. \[no-undef\]"
    assert any(re.fullmatch(pattern, p) for p in problems(result)), result.stdout


def test_a_name_from_the_other_script_must_be_declared(lint: Lint, tmp_path: Path) -> None:
    copy, line = broken_copy(tmp_path, "ui.js", "/* global ChutesGraph */", "")
    result = lint(copy.name, cwd=tmp_path)
    assert result.returncode == 1
    assert any(
        re.fullmatch(r"ui\.js:\d+:\d+: 'ChutesGraph' is not defined\. \[no-undef\]", p)
        for p in problems(result)
    ), result.stdout


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        (".node { colr: red; }", r"9: Unknown property 'colr' \[css-grammar\]"),
        (".node { width: 10pz; }", r"16: invalid value for 'width': '10pz' \(expected .+\)"),
    ],
)
def test_a_css_error_names_the_file_and_line(
    lint: Lint, tmp_path: Path, replacement: str, expected: str
) -> None:
    copy, line = broken_copy(tmp_path, "view.css", "#legend .title {", replacement)
    result = lint(copy.name, cwd=tmp_path)
    assert result.returncode == 1
    pattern = rf"view\.css:{line}:{expected}( \[css-grammar\])?"
    assert any(re.fullmatch(pattern, p) for p in problems(result)), result.stdout


def test_a_css_block_left_open_names_its_line(lint: Lint, tmp_path: Path) -> None:
    text = (ASSETS / "view.css").read_text(encoding="utf-8")
    copy = tmp_path / "view.css"
    copy.write_text(text + ".node { color: red;\n", encoding="utf-8")
    line = len(text.splitlines()) + 1
    result = lint(copy.name, cwd=tmp_path)
    assert result.returncode == 1
    expected = rf"view\.css:{line}:7: block is never closed: add its '}}' \[syntax\]"
    assert problems(result) == [next(p for p in problems(result) if re.fullmatch(expected, p))]


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
