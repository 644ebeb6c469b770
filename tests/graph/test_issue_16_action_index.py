"""Issue 16: ``plan`` checks every node's action result in one batch, through an index of
the entries that last read back verified, and the index never hides a change.

Each test builds a small workspace into a real disk store (every node's result put),
dates the entries back out of the racy window, plans once (which writes the index) and
checks what the next plan reads: nothing while the entries are as they were; an entry
that was damaged, removed or replaced is read again and reported as a plain read does.
"""

from __future__ import annotations

import logging
import os
import re

import pytest

from chutes_build.cache import ActionResult, DiskStore, MemoryStore, scope_id, verified_actions
from chutes_build.graph import plan, result_key, used_by
from tests.graph.conftest import chute_file


class CountingStore(DiskStore):
    """A disk store that remembers which action entries were read."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def _peek(self, area: str, name: str) -> bytes | None:
        if area == "ac":
            self.reads.append(name)
        return super()._peek(area, name)


def settle(folder, age: float = 30.0) -> None:
    """Date every file under ``folder`` ``age`` seconds back (its ctime stays now)."""
    for where, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(where, name)
            stamp = os.stat(path).st_mtime - age
            os.utime(path, (stamp, stamp))


def statuses(tree, graph) -> dict[str, tuple[str, str]]:
    tree.store.reads.clear()
    return {n.key: (n.status, n.reason) for n in plan(graph, tree.store).nodes}


@pytest.fixture
def built(tree, tmp_path):
    """``(tree, graph)``: every node's result in the store, settled, the index written."""
    tree.write("chutes/a/chute_a.py", chute_file("alpha", ".run_command('echo a')"))
    tree.write("chutes/b/chute_b.py", chute_file("beta", ".apt_install(['curl'])"))
    tree.store = CountingStore(str(tmp_path / "cache"))
    graph = tree.compile()
    for key in results(graph):
        tree.store.put_action(key, ActionResult(kind="layer"))
    settle(tmp_path / "cache" / "ac")
    first = statuses(tree, graph)
    assert {s for s, _ in first.values()} == {"cached"}
    assert sorted(tree.store.reads) == results(graph), "the first plan reads every entry"
    return tree, graph


def results(graph) -> list[str]:
    """Where the local target records the results of the nodes it uses, sorted."""
    return sorted(result_key(n) for n in graph.nodes() if used_by(n.kind, "local"))


def entry(tree, key: str) -> str:
    return tree.store._path("ac", key)


def test_issue_16_a_second_plan_reads_no_unchanged_entry(built):
    tree, graph = built
    again = statuses(tree, graph)
    assert {s for s, _ in again.values()} == {"cached"} and len(again) == len(results(graph))
    assert tree.store.reads == []


def test_issue_16_an_entry_damaged_in_place_is_corrupt_though_indexed(built):
    tree, graph = built
    key = graph.keys("deploy")[0]
    path = entry(tree, key)
    before = os.stat(path)
    data = bytearray(open(path, "rb").read())
    data[-1] ^= 1  # same size; then the mtime is put back: only the ctime moved
    with open(path, "r+b") as handle:
        handle.write(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    found = statuses(tree, graph)
    status, reason = found[key]
    assert status == "dirty"
    assert re.match(r"^corrupt entry \(checksum mismatch\): it is rebuilt$", reason), reason
    assert {s for k, (s, _) in found.items() if k != key} == {"cached"}


def test_issue_16_a_removed_entry_is_dirty_though_indexed(built):
    tree, graph = built
    key = graph.keys("image")[0]
    os.remove(entry(tree, key))
    found = statuses(tree, graph)
    assert found[key][0] == "dirty"
    assert re.match(r"^never built$", found[key][1]), found[key]
    assert sum(s == "cached" for s, _ in found.values()) == len(results(graph)) - 1


def test_issue_16_a_replaced_entry_is_read_again(built):
    tree, graph = built
    key = graph.keys("layer")[0]
    tree.store.put_action(key, ActionResult(kind="layer", version=99))
    settle(os.path.dirname(entry(tree, key)))
    found = statuses(tree, graph)
    assert set(tree.store.reads) == {key}, "only the replaced entry is read"
    assert re.match(r"^corrupt entry \(has format 99, expected 1\): it is rebuilt$", found[key][1])


def test_issue_16_a_damaged_index_reads_as_a_miss(built, caplog):
    tree, graph = built
    path = os.path.join(tree.store.root, "records", "acindex", scope_id(str(tree.root)))
    with open(path, "r+b") as handle:
        handle.seek(30)
        handle.write(b"\xff\xff\xff")
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        found = statuses(tree, graph)
    assert {s for s, _ in found.values()} == {"cached"}
    assert sorted(tree.store.reads) == results(graph)
    assert any(re.match(r"^cache: records entry acindex/\w+ is unusable \(checksum mismatch\)",
                        r.getMessage()) for r in caplog.records)  # fmt: skip
    statuses(tree, graph)
    assert tree.store.reads == [], "the index was written again"


def test_issue_16_entries_written_just_now_are_not_trusted(built):
    tree, graph = built
    key = graph.keys("deploy")[-1]
    tree.store.put_action(key, ActionResult(kind="deploy", outputs={"id": "2"}))
    for _ in range(2):  # the entry is within the racy window: read on every plan
        assert statuses(tree, graph)[key][0] == "cached"
        assert set(tree.store.reads) == {key}


def test_issue_16_the_memory_store_sees_an_entry_edited_in_place():
    store = MemoryStore()
    keys = [f"{n:032x}" for n in range(1, 4)]
    for key in keys:
        store.put_action(key, ActionResult(kind="layer"))
    assert verified_actions(store, keys, "ws") == set(keys)
    data = store.data[("ac", keys[1])]
    store.data[("ac", keys[1])] = data[:-1] + bytes([data[-1] ^ 1])
    assert verified_actions(store, keys, "ws") == {keys[0], keys[2]}
    del store.data[("ac", keys[2])]
    assert verified_actions(store, keys, "ws") == {keys[0]}
