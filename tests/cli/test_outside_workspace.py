"""Outside a workspace nothing is scanned: only what is named is read, and a chute file
whose import runs past the timeout gets an error naming it (issue 15, item 6)."""

from __future__ import annotations

import json
import re

CHUTE = """\
import pathlib
from chutes_build import Chute, Image

pathlib.Path(__file__).with_name("imported-" + pathlib.Path(__file__).stem).write_text("")
chute = Chute(username="t", name="{name}", image=Image(username="t", name="{name}", tag="1"))
"""

LOOPS = """\
from chutes_build import Chute
while True:
    pass
chute = Chute()
"""


def _folder(tmp_path):
    """A stray folder with chute files (and no pyproject.toml anywhere above it)."""
    root = tmp_path / "stray"
    (root / "sub").mkdir(parents=True)
    (root / "top.py").write_text(CHUTE.format(name="top"))
    (root / "sub" / "inner.py").write_text(CHUTE.format(name="inner"))
    (root / "loops.py").write_text(LOOPS)
    return root


def test_issue_15_ls_outside_a_workspace_scans_nothing(cli, tmp_path) -> None:
    root = _folder(tmp_path)
    result = cli("ls", cwd=root)
    assert result.code == 1
    assert re.match(
        r"^error: no workspace found: no pyproject\.toml with a \[tool\.chutes-build\] table "
        rf"in {re.escape(str(root))} or a folder above it\n  fix: pass chute files or folders",
        result.stderr,
    ), result.stderr
    assert not list(root.rglob("imported-*"))  # no file was imported


def test_issue_15_outside_a_workspace_only_what_is_named_is_read(cli, tmp_path) -> None:
    root = _folder(tmp_path)
    result = cli("ls", "--json", "sub", cwd=root)
    assert result.code == 0, result.stderr
    assert [row["name"] for row in json.loads(result.stdout)["chutes"]] == ["inner"]
    assert [p.name for p in root.rglob("imported-*")] == ["imported-inner"]


def test_issue_15_a_chute_name_outside_a_workspace_says_why_it_is_unknown(cli, tmp_path) -> None:
    root = _folder(tmp_path)
    result = cli("ls", "top", cwd=root)
    assert result.code == 1
    assert re.match(
        r"^error: <command line>: 'top' is no file or folder, and chute names are looked up "
        r"only in a workspace",
        result.stderr,
    ), result.stderr
    assert not list(root.rglob("imported-*"))


def test_issue_15_an_import_past_the_timeout_names_the_file(cli, tmp_path, monkeypatch) -> None:
    root = _folder(tmp_path)
    monkeypatch.setenv("CHUTES_BUILD_IMPORT_TIMEOUT", "1")
    result = cli("ls", "loops.py", "top.py", cwd=root)
    assert result.code == 1
    assert re.search(
        r"^error: loops\.py:\d+: importing the chute file took longer than 1 s "
        r"\(the import-timeout\) and was stopped\n  fix: .*import-timeout",
        result.stderr,
        re.M,
    ), result.stderr
    assert "1 chutes in 2 files, 1 with errors" in result.stdout
