"""``pull``/``push`` against a real nginx cache: read-through, write-behind, forgeries."""

from __future__ import annotations

import msgspec

from chutes_build.cache import ActionResult, MemoryStore, RemoteCache
from chutes_build.cache._shared import RecordingStore, pull, push

from .conftest import TEAM_KEY

KEY_A, KEY_B, KEY_C = "a" * 32, "b" * 32, "c" * 32


def _result(kind: str, image_id: str = "img-1", logs=()) -> ActionResult:
    return ActionResult(kind=kind, outputs={"image_id": image_id}, logs=logs)


async def test_results_written_behind_are_read_through_by_another_store(nginx):
    mine, theirs = MemoryStore(), MemoryStore()
    recording = RecordingStore(mine)
    log = mine.put_blob(b"build log")
    recording.put_action(KEY_A, _result("image-chutes", logs=(log,)))
    recording.put_action(KEY_B, _result("deploy-local"))  # this machine's container: not shared
    async with RemoteCache(nginx[0], TEAM_KEY) as remote:
        pushed = await push(remote, mine, recording.written)
        assert pushed.keys == [KEY_A]
        pulled = await pull(remote, theirs, [KEY_A, KEY_B, KEY_C])
    assert pulled.keys == [KEY_A]
    assert theirs.get_action(KEY_A) == mine.get_action(KEY_A)
    assert not theirs.has_action(KEY_B) and not theirs.has_action(KEY_C)
    assert (nginx[1] / "cas" / log).exists()


async def test_a_forged_entry_is_not_copied_into_the_local_store(nginx):
    payload = msgspec.msgpack.encode(_result("image-chutes", image_id="attacker-image"))
    async with RemoteCache(nginx[0], "someone-else-key-0123456789") as other:
        assert await other.put_action(KEY_C, payload)
    store = MemoryStore()
    async with RemoteCache(nginx[0], TEAM_KEY) as remote:
        pulled = await pull(remote, store, [KEY_C])
        assert remote.stats.rejected == 1
    assert pulled.pulled == 0 and not store.has_action(KEY_C)


async def test_local_hits_are_not_asked_for(nginx):
    store = MemoryStore()
    store.put_action(KEY_A, _result("layer"))
    async with RemoteCache(nginx[0], TEAM_KEY) as remote:
        await pull(remote, store, [KEY_A])
        assert (remote.stats.hits, remote.stats.misses) == (0, 0)


async def test_no_remote_is_a_no_op():
    store = MemoryStore()
    assert (await pull(None, store, [KEY_A])).pulled == 0
    assert (await push(None, store, [KEY_A])).pushed == 0
