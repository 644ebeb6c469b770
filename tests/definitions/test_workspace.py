"""Finding and loading a workspace's chute files."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

from chutes_build import WorkspaceError
from chutes_build.workspace._workspace import discover, find_workspace, load_paths

CHUTE = """\
from chutes.chute import Chute

chute = Chute(username="alice", name="{name}", image="parachutes/python:3.12")
"""

#: A workspace that names no globs: every file that looks like a chute file.
WORKSPACE = "[tool.chutes-build]\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def names(loaded) -> list[str]:
    return sorted(chute.name for f in loaded for _, chute in f.chutes)


def load_ws(root: Path, paths: list[str] | None = None):
    workspace = find_workspace(str(root))
    files = discover(workspace, [str(root / p) for p in paths] if paths else None)
    return workspace, load_paths(workspace, files)


def test_paths_select_files_and_folders(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": WORKSPACE,
            "a.py": CHUTE.format(name="a"),
            "sub/b.py": CHUTE.format(name="b"),
            "sub/deeper/c.py": CHUTE.format(name="c"),
            "sub/not_a_chute.py": "VALUE = 1\n",
            ".hidden/d.py": CHUTE.format(name="d"),
        },
    )
    assert names(load_ws(tmp_path)[1]) == ["a", "b", "c"]
    assert names(load_ws(tmp_path, ["a.py"])[1]) == ["a"]
    assert names(load_ws(tmp_path, ["sub"])[1]) == ["b", "c"]
    assert names(load_ws(tmp_path, ["a.py", "sub/deeper"])[1]) == ["a", "c"]
    with pytest.raises(WorkspaceError, match=r"no such file or folder: .*missing\.py"):
        load_ws(tmp_path, ["missing.py"])


def test_nearest_pyproject_with_a_chutes_build_table(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": (
                '[tool.chutes-build]\nchutes = ["chutes/**/*.py"]\nexclude = ["chutes/skip/**"]\n'
            ),
            "chutes/one.py": CHUTE.format(name="one"),
            "chutes/two/two.py": CHUTE.format(name="two"),
            "chutes/skip/three.py": CHUTE.format(name="three"),
            "tools/four.py": CHUTE.format(name="four"),
            "pkg/pyproject.toml": '[project]\nname = "pkg"\n',
            "pkg/five.py": CHUTE.format(name="five"),
        },
    )
    workspace, loaded = load_ws(tmp_path)
    assert workspace.root == str(tmp_path) and workspace.config.chutes == ["chutes/**/*.py"]
    assert names(loaded) == ["one", "two"]
    # A pyproject.toml without the table is passed over on the way up.
    assert find_workspace(str(tmp_path / "pkg" / "five.py")).root == str(tmp_path)
    # A nested one with the table wins.
    write(tmp_path, {"pkg/pyproject.toml": '[tool.chutes-build]\nchutes = ["*.py"]\n'})
    inner = find_workspace(str(tmp_path / "pkg" / "five.py"))
    assert inner.root == str(tmp_path / "pkg")
    assert names(load_paths(inner, discover(inner))) == ["five"]


def test_invalid_workspace_table_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.chutes-build]\nchutes = "x.py"\nunknown = 1\n'})
    with pytest.raises(
        WorkspaceError, match=r"^.*pyproject\.toml: invalid \[tool\.chutes-build\] table: "
    ):
        find_workspace(str(tmp_path))


def test_several_chutes_in_one_file(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": WORKSPACE, "multi.py": """\
        from chutes.chute import Chute
        from chutes.image import Image

        image = Image(username="alice", name="shared", tag="1").run_command("echo shared")
        first = Chute(username="alice", name="first", image=image)
        second = Chute(username="alice", name="second", image=image)
        third = Chute(username="alice", name="third", image="parachutes/python:3.12")
        alias = first
    """})  # fmt: skip
    _, [loaded] = load_ws(tmp_path)
    assert [attr for attr, _ in loaded.chutes] == ["first", "second", "third"]
    assert [attr for attr, _ in loaded.images] == ["image"]


ADD_FILES = {
    "pyproject.toml": '[tool.chutes-build]\nchutes = ["apps/**/chute.py"]\n',
    "shared/lib.py": "X = 1\n",
    "apps/web/data/weights.bin": "w",
    "apps/web/data/skip.bin": "s",
}


def add_chute(source: str, extra: str = "") -> str:
    return f"""\
        from chutes.chute import Chute
        from chutes.image import Image

        image = Image(username="alice", name="web", tag="1").add({source!r}, "/app/"{extra})
        chute = Chute(username="alice", name="web", image=image)
    """


@pytest.mark.parametrize(
    "source", ["data/weights.bin", "data", "data/*.bin", "../../shared/lib.py", "../../shared"]
)
def test_add_sources_resolve_against_the_chute_files_folder(
    tmp_path: Path, source: str, monkeypatch
) -> None:
    write(tmp_path, {**ADD_FILES, "apps/web/chute.py": add_chute(source)})
    monkeypatch.chdir(tmp_path / "shared")  # the cwd plays no part
    _, [loaded] = load_ws(tmp_path)
    assert loaded.error is None, str(loaded.error)
    (add,) = [d for d in loaded.chutes[0][1].image.directives if d.instruction == "ADD"]
    assert add.source == source and add.origin == str(tmp_path / "apps" / "web")


def test_add_exclude(tmp_path: Path) -> None:
    from chutes_build.definitions._files import select_files

    write(
        tmp_path,
        {**ADD_FILES, "apps/web/chute.py": add_chute("data", ', exclude=["data/skip.bin"]')},
    )
    _, [loaded] = load_ws(tmp_path)
    (add,) = [d for d in loaded.chutes[0][1].image.directives if d.instruction == "ADD"]
    assert add.exclude == ("data/skip.bin",)
    selected, escaping = select_files(add.source, add.origin, str(tmp_path), add.exclude)
    assert (selected, escaping) == (["apps/web/data/weights.bin"], [])


def test_add_may_not_leave_the_workspace(tmp_path: Path) -> None:
    ws = write(
        tmp_path / "ws", {**ADD_FILES, "apps/web/chute.py": add_chute("../../../outside.txt")}
    )
    (tmp_path / "outside.txt").write_text("secret")
    _, [loaded] = load_ws(ws)
    pattern = (
        r"^.*apps/web/chute\.py:4: add\(\) source '\.\./\.\./\.\./outside\.txt' "
        r"reaches outside the workspace root"
    )
    assert re.match(pattern, str(loaded.error)), str(loaded.error)
    assert "\n  fix: " in str(loaded.error)


@pytest.mark.parametrize("target", ["link", "link/secret.txt", "filelink"])
def test_add_through_a_symlink_may_not_leave_the_workspace(tmp_path: Path, target: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    ws = write(tmp_path / "ws", {**ADD_FILES, "apps/web/chute.py": add_chute(target)})
    os.symlink(outside, ws / "apps" / "web" / "link")
    os.symlink(outside / "secret.txt", ws / "apps" / "web" / "filelink")
    _, [loaded] = load_ws(ws)
    assert loaded.error is not None
    assert re.match(
        rf"^.*chute\.py:4: add\(\) source '{target}' reaches outside the workspace root",
        str(loaded.error),
    )


def test_symlink_inside_the_workspace_is_fine(tmp_path: Path) -> None:
    ws = write(tmp_path / "ws", {**ADD_FILES, "apps/web/chute.py": add_chute("lib.py")})
    os.symlink(ws / "shared" / "lib.py", ws / "apps" / "web" / "lib.py")
    _, [loaded] = load_ws(ws)
    assert loaded.error is None, str(loaded.error)


def test_same_named_files_with_their_own_helpers_do_not_collide(tmp_path: Path) -> None:
    chute = """\
        from chutes.chute import Chute
        import helpers

        chute = Chute(username="alice", name="c-" + helpers.VALUE, image="parachutes/python:3.12")
    """
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.chutes-build]\nchutes = ["*/chute.py"]\n',
            "a/chute.py": chute,
            "a/helpers.py": 'VALUE = "a"\n',
            "b/chute.py": chute,
            "b/helpers.py": 'VALUE = "b"\n',
        },
    )
    _, loaded = load_ws(tmp_path)
    assert [(f.rel, f.chutes[0][1].name) for f in loaded] == [
        ("a/chute.py", "c-a"),
        ("b/chute.py", "c-b"),
    ]
    assert [f.deps for f in loaded] == [["a/helpers.py"], ["b/helpers.py"]]
    assert "helpers" not in sys.modules
    # In the other order too.
    workspace = find_workspace(str(tmp_path))
    reverse = load_paths(
        workspace, [str(tmp_path / "b" / "chute.py"), str(tmp_path / "a" / "chute.py")]
    )
    assert [f.chutes[0][1].name for f in reverse] == ["c-b", "c-a"]


def test_errors_are_recorded_per_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": WORKSPACE,
            "good.py": CHUTE.format(name="good"),
            "bad.py": CHUTE.format(name="bad") + "raise RuntimeError('boom')\n",
            "later.py": CHUTE.format(name="later"),
        },
    )
    _, loaded = load_ws(tmp_path)
    by_file = {f.rel: f for f in loaded}
    assert names(f for f in loaded if f.error is None) == ["good", "later"]
    assert re.match(
        r"^.*bad\.py:4: importing the chute file raised RuntimeError: boom\n  fix: ",
        str(by_file["bad.py"].error),
    )


def test_deps_list_the_local_modules_a_file_imports(tmp_path: Path) -> None:
    chute = """\
        from chutes.chute import Chute
        import helpers
        from pkg.mod import Z

        chute = Chute(username="alice", name="{name}", image="parachutes/python:3.12")
    """
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.chutes-build]\nchutes = ["?.py"]\n',
            "a.py": chute.format(name="a"),
            "b.py": chute.format(name="b"),
            "helpers.py": "import util\n",
            "util.py": "X = 1\n",
            "pkg/__init__.py": "",
            "pkg/mod.py": "from pkg import sub\nZ = 2\n",
            "pkg/sub.py": "",
        },
    )
    _, loaded = load_ws(tmp_path)
    expected = ["helpers.py", "pkg/__init__.py", "pkg/mod.py", "pkg/sub.py", "util.py"]
    # The second file finds the modules already imported, and still lists them.
    assert [(f.rel, f.deps) for f in loaded] == [("a.py", expected), ("b.py", expected)]
    assert not {"helpers", "util", "pkg", "pkg.mod"} & set(sys.modules)
