"""Bad chute files through the command line: a clean message, never a traceback.

Every message starts ``error: FILE:LINE: what is wrong`` (the line of the
user's call) and carries a ``fix:`` line.
"""

from __future__ import annotations

import json
import re

import pytest

CASES = [
    ("bad_name.py", r"bad_name\.py:3: invalid image name '-bad'"),
    ("bad_tag.py", r"bad_tag\.py:3: invalid image tag 'a tag'"),
    ("bad_env.py", r"bad_env\.py:3: invalid environment variable name '1BAD'"),
    ("bad_apt.py", r"bad_apt\.py:4: invalid apt package 'curl; rm -rf /': only letters"),
    ("bad_chown.py", r"bad_chown\.py:5: invalid add\(\) chown option 'bad user'"),
    ("bad_chmod.py", r"bad_chmod\.py:4: invalid add\(\) chmod option '999'"),
    ("bad_checksum.py", r"bad_checksum\.py:4: invalid add\(\) checksum option 'md5:abc'"),
    (
        "add_nothing.py",
        r"add_nothing\.py:4: add\(\) source 'missing/\*\.txt' matches no file under ",
    ),
    (
        "add_escape.py",
        r"add_escape\.py:4: add\(\) source '\.\./outside\.txt' reaches outside the workspace root ",
    ),
    (
        "selector_bounds.py",
        r"selector_bounds\.py:4: node selector gpu_count must be an integer from 1 to 8, got 9",
    ),
    ("dup_cord.py", r"dup_cord\.py:11: duplicate cord path '/run' in chute 'x'"),
    ("bad_cord_path.py", r"bad_cord_path\.py:6: invalid cord path '/Has Space'"),
    ("raises.py", r"raises\.py:5: importing the chute file raised KeyError: 'missing'"),
    ("syntax.py", r"syntax\.py:3: syntax error: invalid syntax"),
    (
        "other_module.py",
        r"other_module\.py:2: module 'chutes\.entrypoint\.run' of the chutes SDK is not available",
    ),
]


def check_clean_error(result, pattern: str) -> None:
    assert result.code != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert re.match(r"^error: " + pattern, result.stderr), result.stderr
    first = result.stderr.split("error: ", 1)[1]
    assert re.match(r"^[^\n]*\n  fix: \S", first), result.stderr


@pytest.mark.parametrize(("name", "pattern"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["ls", "dockerfile"])
def test_bad_file_gives_a_clean_error(
    cli, workspace, command: str, name: str, pattern: str
) -> None:
    root = workspace(name)
    (root.parent / "outside.txt").write_text("outside the workspace")
    args = ["ls", name] if command == "ls" else ["dockerfile", f"{name}:image"]
    check_clean_error(cli(*args, cwd=root), pattern)


def test_file_without_a_chute(cli, workspace) -> None:
    root = workspace("no_chute.py")
    result = cli("ls", "no_chute.py", cwd=root)
    check_clean_error(
        result, r"no_chute\.py: no chute found in this file\n  fix: define a Chute at module level"
    )
    assert "[tool.chutes-build] chutes" in result.stderr


BAD_CHUTE = """\
from chutes.chute import Chute
from chutes.image import Image

image = Image(username="alice", name="ok", tag="1").with_env("1BAD", "x")
chute = Chute(username="alice", name="bad", image=image)
"""


def test_good_files_are_listed_beside_a_bad_one(cli, workspace) -> None:
    root = workspace("good_one.py", "good_two.py", extra={"sub/bad_env.py": BAD_CHUTE})
    result = cli("ls", ".", "--json", cwd=root)
    assert result.code == 1 and "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert sorted(c["name"] for c in data["chutes"]) == ["good-one", "good-two"]
    assert [e["file"] for e in data["errors"]] == ["sub/bad_env.py"]
    assert re.match(
        r"^sub/bad_env\.py:4: invalid environment variable name '1BAD'", data["errors"][0]["error"]
    )
    assert re.match(
        r"^error: sub/bad_env\.py:4: invalid environment variable name '1BAD'", result.stderr
    )
    good = next(c for c in data["chutes"] if c["name"] == "good-one")
    assert good["node_selector"]["gpu_count"] == 2 and good["cords"][0]["path"] == "/run"
    assert (
        good["file"] == "good_one.py" and good["attr"] == "chute" and good["image"] == "good-one:1"
    )


def test_ls_of_good_files_exits_zero(cli, workspace) -> None:
    root = workspace("good_one.py", "good_two.py")
    result = cli("ls", cwd=root)
    assert result.code == 0, result.stderr
    assert "good-one" in result.stdout and "good-two" in result.stdout
    assert "2 chutes in 2 files, 0 with errors" in result.stdout


def test_debug_shows_the_traceback(cli, workspace) -> None:
    root = workspace("bad_env.py", "raises.py")
    result = cli("--debug", "dockerfile", "bad_env.py:image", cwd=root)
    assert result.code != 0 and "Traceback" in result.stderr
    assert "DefinitionError" in result.stderr and 'bad_env.py", line 3' in result.stderr
    result = cli("--debug", "ls", "raises.py", cwd=root)
    assert result.code != 0 and "Traceback" in result.stderr
    assert "KeyError: 'missing'" in result.stderr and 'raises.py", line 5' in result.stderr


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (
            ["dockerfile", "good_one.py"],
            r"<command line>: expected FILE\.py:ATTR, got 'good_one\.py'",
        ),
        (["dockerfile", "missing.py:chute"], r"<command line>: no such file: missing\.py"),
        (
            ["dockerfile", "good_one.py:nothing"],
            r"good_one\.py: good_one\.py has no attribute 'nothing'\n"
            r"  fix: use one of: chute, image",
        ),
        (
            ["dockerfile", "good_one.py:run"],
            r"good_one\.py: 'run' in good_one\.py is a function, not a Chute or Image",
        ),
        (
            ["dockerfile", "good_two.py:chute"],
            r"good_two\.py: chute 'good-two' uses the prebuilt image 'parachutes/python:3\.12'",
        ),
        (["ls", "missing.py"], r"<command line>: no such file or folder: missing\.py"),
    ],
)
def test_bad_command_line(cli, workspace, args: list[str], pattern: str) -> None:
    root = workspace("good_one.py", "good_two.py")
    check_clean_error(cli(*args, cwd=root), pattern)


def test_dockerfile_of_a_good_chute(cli, workspace) -> None:
    root = workspace("good_one.py")
    result = cli("dockerfile", "good_one.py:chute", cwd=root)
    assert result.code == 0, result.stderr
    assert result.stdout == "FROM parachutes/python:3.12\nRUN apt-get -y install git\n"


def test_version(cli, tmp_path) -> None:
    from chutes_build import __version__

    result = cli("--version", cwd=tmp_path)
    assert result.code == 0 and result.stdout == f"chutes-build {__version__}\n"


def test_issue_15_a_misspelt_directive_suggests_the_right_one(cli, workspace) -> None:
    chute = (
        "from chutes_build import Chute, Image\n"
        "image = Image(username='u', name='n', tag='1').run_comand('echo hi')\n"
        "chute = Chute(username='u', name='n', image=image)\n"
    )
    result = cli("ls", cwd=workspace(extra={"typo.py": chute}))
    assert result.code == 1 and "Traceback" not in result.stderr
    assert re.search(r"^error: typo\.py:2: importing the chute file raised AttributeError: 'Image' "
                     r"object has no attribute 'run_comand'\n  fix: did you mean 'run_command'\?$",
                     result.stderr, re.M), result.stderr  # fmt: skip
    misspelt = chute.replace("Image(username", "Imag(username")
    result = cli("ls", cwd=workspace(extra={"typo.py": misspelt}))
    assert re.search(r"NameError: name 'Imag' is not defined\n  fix: did you mean 'Image'\?$",
                     result.stderr, re.M), result.stderr  # fmt: skip
