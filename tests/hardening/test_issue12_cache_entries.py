"""Issue 12: the cache's readers agree, and nothing in an entry's place hangs or crashes.

``plan`` reads action results the way ``up`` does (verified), so a damaged entry is a
dirty node with the reason "corrupt entry", never a cached one; ``cache verify`` and
every lookup share one read path, so they call the same entries bad. A FIFO, a folder
or a link to ``/dev/zero`` where an entry belongs is a miss and a log line, read without
blocking. The CLI runs in a subprocess: a hang ends at the guard, and fails the test.
"""

from __future__ import annotations

import json
import logging
import os
import re

import pytest

from chutes_build.cache import ACTION_VERSION, ActionResult, DiskStore, MemoryStore
from chutes_build.graph import compile_workspace, result_key
from tests.graph.conftest import Tree, chute_file
from tests.hardening._issue12 import cli as run_cli

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def ws(tmp_path):
    tree = Tree(tmp_path / "ws")
    tree.config('cache-dir = ".cache"')
    tree.write("chutes/a/src/model.py", "m = 1\n")
    image = ".apt_install(['curl']).add('src', '/app/src').run_command('echo a')"
    tree.write("chutes/a/chute_a.py", chute_file("alpha", image))
    tree.write("chutes/b/chute_b.py", chute_file("beta", ".apt_install(['curl'])"))
    tree.store = DiskStore(str(tree.root / ".cache"))
    return tree


def cli(tree, *args: str) -> tuple[int, str, str]:
    return run_cli(tree.root, *args)


def build_all(tree) -> dict[str, str]:
    """Write every node's result; ``{entry key: node key}`` (a runtime node's result is
    recorded under a key of its own)."""
    graph = compile_workspace(tree.workspace, None, tree.store)
    entries = {result_key(graph.node(key)): key for key in graph.keys()}
    for entry, key in entries.items():
        tree.store.put_action(entry, ActionResult(kind=graph.node(key).kind))
    return entries


def truncate(path: str) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)


def flip(path: str) -> None:
    with open(path, "r+b") as handle:
        data = bytearray(handle.read())
        data[-1] ^= 0x01
        handle.seek(0)
        handle.write(data)


def old_format(store: DiskStore, key: str) -> None:
    """Replace the entry by a well-sealed result of another format version."""
    store.put_action(key, ActionResult(kind="layer", version=ACTION_VERSION + 1))


def fifo(path: str) -> None:
    os.unlink(path)
    os.mkfifo(path)


def folder(path: str) -> None:
    os.unlink(path)
    os.mkdir(path)
    with open(os.path.join(path, "x"), "wb") as handle:
        handle.write(b"x" * 64)


def dev_zero(path: str) -> None:
    os.unlink(path)
    os.symlink("/dev/zero", path)


DAMAGE = [truncate, flip, fifo, folder, dev_zero]


def damage_all(tree, keys: list[str]) -> dict[str, str]:
    """Damage every entry, each of ``DAMAGE`` in turn; ``{key: how}``."""
    how = {}
    for i, key in enumerate(keys):
        path = tree.store._path("ac", key)
        if i % (len(DAMAGE) + 1) == len(DAMAGE):
            old_format(tree.store, key)
            how[key] = "old_format"
        else:
            DAMAGE[i % (len(DAMAGE) + 1)](path)
            how[key] = DAMAGE[i % (len(DAMAGE) + 1)].__name__
    return how


def test_issue_12_plan_reports_a_damaged_entry_as_a_corrupt_dirty_node(ws) -> None:
    keys = build_all(ws)
    code, out, _ = cli(ws, "plan", "--json")
    assert code == 0 and json.loads(out)["summary"]["dirty"] == 0
    how = damage_all(ws, list(keys))
    assert len(set(how.values())) == len(DAMAGE) + 1, how
    code, out, err = cli(ws, "plan", "--json")
    assert code == 0, err[-2000:]
    nodes = {n["key"]: n for n in json.loads(out)["nodes"]}
    assert set(nodes) == set(keys.values())
    for entry, key in keys.items():
        node = nodes[key]
        assert node["status"] == "dirty", (how[entry], node)
        reason = node["reason"]
        assert re.match(r"^corrupt entry \(.+\): it is rebuilt$", reason), (how[entry], node)


def test_issue_12_cache_verify_and_plan_name_the_same_entries_and_never_hang(ws) -> None:
    keys = build_all(ws)
    how = damage_all(ws, list(keys))
    code, out, err = cli(ws, "cache", "verify", "--json")
    assert code == 1, err[-2000:]
    bad = {row["name"]: row["why"] for row in json.loads(out)["corrupt"]}
    assert set(bad) == set(keys), (bad, how)
    for key, kind in how.items():
        expected = {
            "fifo": r"^a FIFO \(named pipe\), not a regular file$",
            "folder": r"^a directory, not a regular file$",
            "dev_zero": r"^a symbolic link, not a regular file$",
            "truncate": r"^(truncated entry|checksum mismatch)$",
            "flip": r"^checksum mismatch$",
            "old_format": rf"^has format {ACTION_VERSION + 1}, expected {ACTION_VERSION}$",
        }[kind]
        assert re.match(expected, bad[key]), (kind, bad[key])
    code, out, _ = cli(ws, "plan", "--json")
    plan = {n["key"]: n["reason"] for n in json.loads(out)["nodes"]}
    for entry, key in keys.items():
        assert plan[key] == f"corrupt entry ({bad[entry]}): it is rebuilt", (how[entry], plan[key])


def test_issue_12_gc_removes_what_sits_in_an_entrys_place(ws) -> None:
    keys = build_all(ws)
    damage_all(ws, list(keys))
    code, out, err = cli(ws, "cache", "gc", "--max-size", "0", "--json")
    assert code == 0, err[-2000:]
    left = [e for e in ws.store.entries() if e.area == "ac"]
    assert left == [], left
    assert cli(ws, "cache", "verify")[0] == 0


def test_issue_12_a_directory_in_an_entrys_place_is_a_miss_and_a_log_line(tmp_path, caplog):
    store = DiskStore(str(tmp_path / "cache"))
    store.put_action(KEY, ActionResult(kind="layer"))
    folder(store._path("ac", KEY))
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        assert store.get_action(KEY) is None
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        re.match(rf"^cache: action result {KEY} is unusable \(a directory, not a regular file\)", m)
        for m in messages
    ), messages


@pytest.mark.parametrize("make", [MemoryStore, "disk"], ids=["memory", "disk"])
def test_issue_12_verify_rejects_an_old_action_format_as_lookups_do(tmp_path, make) -> None:
    store = MemoryStore() if make is MemoryStore else DiskStore(str(tmp_path / "cache"))
    store.put_action(KEY, ActionResult(kind="layer", version=ACTION_VERSION + 1))
    assert store.get_action(KEY) is None
    assert store.verify() == [
        ("ac", KEY, f"has format {ACTION_VERSION + 1}, expected {ACTION_VERSION}")
    ]


@pytest.mark.docker
def test_issue_12_build_rebuilds_over_non_files_in_entries_places(
    tmp_path, docker_engine, busybox_image
) -> None:
    from tests.hardening import _faults

    repo = _faults.busybox_repo(tmp_path, docker_engine, busybox_image, names=("one",))
    try:
        repo.cli("build")
        store = DiskStore(_faults.cache(repo))
        keys = [e.name for e in store.entries() if e.area == "ac"]
        for i, key in enumerate(keys):
            [fifo, folder, dev_zero][i % 3](store._path("ac", key))
        code, out, err = run_cli(repo.root, "build", "--json", env_extra=repo.env())
        assert code == 0, [line for line in (out + err).splitlines() if "failed" in line]
        assert json.loads(out.splitlines()[-1])["summary"]["failed"] == []
        assert DiskStore(_faults.cache(repo)).verify() == []
    finally:
        repo.cleanup()
