"""Issue 16: chutes made from one template hold their equal parts once.

Files are imported in worker processes and sent back; the parts equal across
their snapshots (cords, settings, jobs, node selector, directives) arrive as one
object, and each snapshot still equals the one made without sharing.
"""

from __future__ import annotations

import msgspec

from chutes_build.workspace import import_isolated
from chutes_build.workspace._snapshot import SharedParts
from chutes_build.workspace._workspace import find_workspace

CHUTE = """\
from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="t", name="c{i}", tag="1").from_base("parachutes/python:3.12") \\
    .run_command("pip install numpy").run_command("echo {i} > /id")
chute = Chute(username="t", name="c{i}", image=image, concurrency={concurrency},
              node_selector=NodeSelector(gpu_count=1))


@chute.cord(public_api_path="/echo")
async def echo(self, text: str) -> str:
    return text
"""


def test_issue_16_equal_parts_of_imported_chutes_are_one_object(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.chutes-build]\nchutes = ["*.py"]\n')
    paths = []
    for i in range(3):
        path = tmp_path / f"c{i}.py"
        path.write_text(CHUTE.format(i=i, concurrency=2 if i < 2 else 3))
        paths.append(str(path))
    outcomes = import_isolated(find_workspace(str(tmp_path)), paths, 30.0)
    assert [o.failure for o in outcomes] == [None, None, None]
    one, two, three = (o.chutes[0] for o in outcomes)
    assert one.cords is two.cords is three.cords
    assert one.node_selector is three.node_selector
    assert one.settings is two.settings and one.settings is not three.settings
    assert one.settings != three.settings  # concurrency differs: not shared
    first, second = one.image.directives, two.image.directives
    assert first[1] is second[1] and first[2] is not second[2]  # the shared pip line, not echo
    assert first[2] != second[2]


def test_issue_16_a_shared_snapshot_equals_the_snapshot_it_stands_for():
    shared = SharedParts()
    chute = msgspec.msgpack.decode(msgspec.msgpack.encode({"a": [1, {"b": 2}]}))
    assert shared.one(chute) is shared.one(msgspec.msgpack.decode(msgspec.msgpack.encode(chute)))
    assert shared.one((1, 2)) is not shared.one([1, 2])  # a tuple and a list stay apart
    assert shared.one(None) is None
