"""Fixtures for the graph tests: small workspaces written into a temporary folder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from chutes_build.cache import MemoryStore
from chutes_build.workspace._workspace import Workspace, find_workspace

PYPROJECT = """\
[project]
name = "ws"
version = "0"

[tool.chutes-build]
chutes = ["chutes/**/chute_*.py"]
{extra}
"""


class Tree:
    """A workspace on disk: write files, then compile it against one store."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = MemoryStore()

    def write(self, rel: str, text: str, age: float = 10.0) -> Path:
        """Write ``rel``; date it ``age`` seconds back so the stat cache may trust it."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        stamp = path.stat().st_mtime - age
        os.utime(path, (stamp, stamp))
        return path

    def config(self, extra: str = "") -> None:
        self.write("pyproject.toml", PYPROJECT.format(extra=extra))

    @property
    def workspace(self) -> Workspace:
        return find_workspace(str(self.root))

    def compile(self, paths=None):
        from chutes_build.graph import compile_workspace

        return compile_workspace(self.workspace, paths, self.store)


@pytest.fixture
def tree(tmp_path) -> Tree:
    t = Tree(tmp_path / "ws")
    t.config()
    return t


def chute_file(name: str, image: str = "", extra: str = "", imports: str = "") -> str:
    """A chute file: ``image`` is the chained builder calls after ``Image(...)``."""
    return (
        "from chutes_build import Chute, Image, NodeSelector\n"
        f"{imports}\n"
        f"image = Image(username='me', name='{name}', tag='1'){image}\n"
        f"chute = Chute(username='me', name='{name}', image=image,\n"
        "              node_selector=NodeSelector(gpu_count=1))\n"
        f"{extra}\n"
        "@chute.cord()\n"
        "async def hello(text: str) -> str:\n"
        "    return text\n"
    )
