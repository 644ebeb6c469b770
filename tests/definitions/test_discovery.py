"""Chute discovery stays inside the workspace, lists each real file once, and scans
nothing outside a workspace unless it was named."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from chutes_build import WorkspaceError
from chutes_build.cli import main
from chutes_build.workspace._workspace import discover, find_workspace

CHUTE = """\
from chutes.chute import Chute

chute = Chute(username="alice", name="{name}", image="parachutes/python:3.12")
"""

#: Imported, it leaves a mark beside itself: proof that discovery ran it.
MARKER = """\
import pathlib
pathlib.Path(__file__).with_suffix(".ran").write_text("imported")
from chutes.chute import Chute
chute = Chute(username="alice", name="{name}", image="parachutes/python:3.12")
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def rels(root: Path, paths: list[str]) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the workspace holding a chute file that marks being imported."""
    return write(tmp_path / "outside", {"sitecustomize.py": MARKER.format(name="outside")})


@pytest.mark.parametrize("table", ["", 'chutes = ["**/*.py"]\n'])
def test_issue_12_discovery_skips_symlinks_that_leave_the_workspace(
    tmp_path, outside, caplog, capsys, monkeypatch, table
):
    root = write(
        tmp_path / "ws",
        {
            "pyproject.toml": f"[tool.chutes-build]\n{table}",
            "app/chute.py": CHUTE.format(name="in"),
        },
    )
    os.symlink(outside, root / "app" / "etc")
    os.symlink(outside / "sitecustomize.py", root / "linked.py")
    with caplog.at_level(logging.WARNING, logger="chutes_build.workspace"):
        assert rels(root, discover(find_workspace(str(root)))) == ["app/chute.py"]
    warnings = sorted(r.getMessage() for r in caplog.records)
    assert len(warnings) == 2
    assert re.match(rf"^skipped {re.escape(str(root / 'app' / 'etc'))}: a symlink to ", warnings[0])
    assert re.match(
        rf"^skipped {re.escape(str(root / 'linked.py'))}: a symlink to "
        rf"{re.escape(str(outside / 'sitecustomize.py'))}, outside the workspace ",
        warnings[1],
    )
    monkeypatch.setenv("CHUTES_BUILD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(root)
    assert main(["ls"]) == 0, capsys.readouterr().err
    assert not (outside / "sitecustomize.ran").exists()


def test_issue_12_symlink_loops_list_each_real_file_once(tmp_path):
    root = write(
        tmp_path / "ws",
        {
            "pyproject.toml": "[tool.chutes-build]\n",
            "chutes/a/chute.py": CHUTE.format(name="a"),
            "chutes/b/chute.py": CHUTE.format(name="b"),
            "lib/shared/chute.py": CHUTE.format(name="shared"),
        },
    )
    os.symlink("..", root / "chutes" / "a" / "up")  # a loop through the parent
    os.symlink("../..", root / "chutes" / "b" / "top")  # and a second one
    os.symlink(".", root / "chutes" / "self")
    os.symlink("../lib/shared", root / "chutes" / "shared")  # a second way to one folder
    os.symlink("a/chute.py", root / "chutes" / "again.py")  # a second name for one file
    assert rels(root, discover(find_workspace(str(root)))) == [
        "chutes/a/chute.py",
        "chutes/b/chute.py",
        "lib/shared/chute.py",
    ]


def test_issue_12_a_link_into_the_workspace_is_listed_under_its_real_path(tmp_path):
    root = write(
        tmp_path / "ws",
        {
            "pyproject.toml": '[tool.chutes-build]\nchutes = ["chutes/**/*.py"]\n',
            "lib/extra.py": CHUTE.format(name="extra"),
            "chutes/one.py": CHUTE.format(name="one"),
        },
    )
    os.symlink("../lib", root / "chutes" / "lib")
    workspace = find_workspace(str(root))
    assert rels(root, discover(workspace)) == ["chutes/one.py", "lib/extra.py"]
    # Named through the link, the folder still selects the file it holds.
    assert rels(root, discover(workspace, [str(root / "chutes" / "lib")])) == ["lib/extra.py"]


def test_issue_15_outside_a_workspace_nothing_is_scanned_unless_named(
    tmp_path, capsys, monkeypatch
):
    root = write(
        tmp_path / "loose",
        {
            "mine.py": CHUTE.format(name="mine"),
            "folder/inner.py": CHUTE.format(name="inner"),
            "stray/other.py": MARKER.format(name="stray"),
        },
    )
    workspace = find_workspace(str(root))
    with pytest.raises(
        WorkspaceError,
        match=rf"^no workspace found: no pyproject\.toml with a \[tool\.chutes-build\] table in "
        rf"{re.escape(str(root))} or a folder above it\n  fix: pass chute files or folders",
    ):
        discover(workspace)
    assert rels(root, discover(workspace, [str(root / "mine.py")])) == ["mine.py"]
    assert rels(root, discover(workspace, [str(root / "folder")])) == ["folder/inner.py"]
    monkeypatch.setenv("CHUTES_BUILD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(root)
    assert main(["ls"]) == 1
    assert re.match(r"^error: no workspace found: ", capsys.readouterr().err)
    assert main(["ls", "mine.py", "folder"]) == 0
    assert "2 chutes in 2 files, 0 with errors" in capsys.readouterr().out
    assert not (root / "stray" / "other.ran").exists()
