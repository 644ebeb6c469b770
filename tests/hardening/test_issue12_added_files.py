"""Issue 12: what an added folder may hold that a build cannot take is a clear error.

A FIFO or a device inside a folder that ``add()`` sends used to hang ``plan`` (the
digest's read waited for a writer), and a file name that is not valid UTF-8 made
``plan``, ``graph`` and ``up`` end in a ``UnicodeEncodeError`` traceback. BuildKit's own
content hashing skips such files; here they are refused by name, with the fix, since an
image that silently lacks a file the folder shows would be a surprise.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.graph.conftest import Tree, chute_file
from tests.hardening._issue12 import cli

COMMANDS = (["plan"], ["graph"], ["up", "--target", "local"])


@pytest.fixture
def ws(tmp_path):
    tree = Tree(tmp_path / "ws")
    tree.config('cache-dir = ".cache"')
    tree.write("chutes/a/data/ok.txt", "fine\n")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", ".add('data', '/app/data')"))
    return tree


def refused(tree, pattern: str) -> None:
    for command in COMMANDS:
        code, out, err = cli(tree.root, *command)
        assert code == 1, (command, code, out[-2000:], err[-2000:])
        assert re.match(pattern, err), (command, err[-2000:])
        assert "Traceback" not in out + err, (command, err[-3000:])


def test_issue_12_a_fifo_in_an_added_folder_is_an_error_naming_it(ws) -> None:
    os.mkfifo(ws.root / "chutes/a/data/pipe")
    refused(
        ws,
        r"^error: chutes/a/chute_a\.py: chutes/a/data/pipe is a FIFO \(named pipe\): only "
        r"regular files can be added to an image\n  fix: exclude it \(add\(\.\.\., "
        r"exclude=\['pipe'\]\)",
    )


def test_issue_12_a_device_in_an_added_folder_is_an_error_naming_it(ws) -> None:
    os.mknod(ws.root / "chutes/a/data/zero", 0o600 | 0o020000, os.makedev(1, 5))
    refused(
        ws,
        r"^error: chutes/a/chute_a\.py: chutes/a/data/zero is a character device: only "
        r"regular files can be added",
    )


def test_issue_12_a_non_utf8_file_name_is_an_error_naming_the_folder(ws) -> None:
    with open(os.path.join(os.fsencode(ws.root), b"chutes/a/data/b\xffd.txt"), "wb") as f:
        f.write(b"x")
    refused(
        ws,
        r"^error: chutes/a/chute_a\.py: add\(\) source 'data' selects "
        r"'chutes/a/data/b\\xffd\.txt', whose name is not valid UTF-8\n"
        r"  fix: rename the file to a UTF-8 name, or exclude it",
    )
