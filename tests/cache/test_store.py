"""The store interface, run over both the disk store and the in-memory store."""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile

import msgspec
import pytest

from chutes_build import CacheError
from chutes_build.cache import (
    ActionResult,
    DiskStore,
    MemoryStore,
    _atomic,
    blob_digest,
    default_cache_dir,
    parse_age,
    parse_size,
)

KEY = "0123456789abcdef0123456789abcdef"
KEY2 = "fedcba9876543210fedcba9876543210"


@pytest.fixture(params=["memory", "disk"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryStore()
    return DiskStore(str(tmp_path / "cache"))


def corrupt(store, area: str, name: str, mutate) -> None:
    """Damage one stored entry in place, whichever store holds it."""
    if isinstance(store, MemoryStore):
        store.data[(area, name)] = mutate(store.data[(area, name)])
        return
    path = store._path(area, name)
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(mutate(data))


def test_blob_round_trip(store):
    digest = store.put_blob(b"hello")
    assert digest == blob_digest(b"hello")
    assert store.get_blob(digest) == b"hello"
    assert store.has_blob(digest)
    assert store.get_blob(blob_digest(b"other")) is None


def test_corrupt_blob_is_a_miss_and_a_log_line(store, caplog):
    digest = store.put_blob(b"hello")
    corrupt(store, "cas", digest, lambda data: b"jello")
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        assert store.get_blob(digest) is None
    assert any(f"blob {digest} is corrupt" in r.getMessage() for r in caplog.records)


def test_action_round_trip(store):
    result = ActionResult(kind="layer", outputs={"image_id": "sha256:abc"}, duration=1.5)
    assert store.get_action(KEY) is None
    store.put_action(KEY, result)
    assert store.get_action(KEY) == result
    assert store.has_action(KEY)
    assert not store.has_action(KEY2)


@pytest.mark.parametrize(
    "mutate, why",
    [
        (lambda data: data[:10], "truncated entry"),
        (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "checksum mismatch"),
        (lambda data: b"XXXX" + data[4:], "not a cache entry"),
        (
            lambda data: data[:4] + (99).to_bytes(4, "little") + data[8:],
            "format version 99, expected 1",
        ),
    ],
)
def test_damaged_action_is_a_miss_and_a_log_line(store, caplog, mutate, why):
    store.put_action(KEY, ActionResult(kind="layer"))
    corrupt(store, "ac", KEY, mutate)
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        assert store.get_action(KEY) is None
    assert any(why in r.getMessage() and KEY in r.getMessage() for r in caplog.records)


def test_action_result_of_another_format_version_is_a_miss(store, caplog):
    store.put_action(KEY, ActionResult(kind="layer", version=2))
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        assert store.get_action(KEY) is None
    assert any("has format 2, expected 1" in r.getMessage() for r in caplog.records)


def test_invalid_key_is_rejected(store):
    with pytest.raises(CacheError, match=r"^invalid cache key '\.\./etc/passwd'"):
        store.get_action("../etc/passwd")


def test_records_round_trip_and_bad_records_read_as_none(store, caplog):
    class Old(msgspec.Struct):
        version: int

    class New(msgspec.Struct):
        version: int
        entries: dict[str, int]

    store.save_struct("eval", "abc", Old(version=1))
    assert store.load_struct("eval", "abc", Old) == Old(version=1)
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        assert store.load_struct("eval", "abc", New) is None
    assert any(
        "record eval/abc is outdated or unreadable" in r.getMessage() for r in caplog.records
    )
    assert store.load_struct("eval", "missing", Old) is None


def test_gc_evicts_least_recently_used_first(store):
    digests = [store.put_blob(bytes([i]) * 100) for i in range(4)]
    store.get_blob(digests[0])  # now the most recently used
    if isinstance(
        store, DiskStore
    ):  # mtimes: make the order explicit, whatever the clock's resolution
        for age, digest in zip((10, 40, 30, 20), digests, strict=True):
            path = store._path("cas", digest)
            os.utime(path, (1_000_000 - age, 1_000_000 - age))
    result = store.gc(max_size=250)
    assert result.removed == 2
    assert result.kept_bytes == 200
    assert store.get_blob(digests[0]) is not None
    assert store.get_blob(digests[3]) is not None
    assert store.get_blob(digests[1]) is None and store.get_blob(digests[2]) is None


def test_gc_older_than(store):
    old = store.put_blob(b"old")
    new = store.put_blob(b"new")
    last_used = {e.name: e.last_used for e in store.entries()}
    now = last_used[new] + 5
    if isinstance(store, DiskStore):
        os.utime(store._path("cas", old), (now - 3600, now - 3600))
    else:
        store.used[("cas", old)] = now - 3600
    result = store.gc(older_than=60, now=now)
    assert (result.removed, result.kept) == (1, 1)
    assert store.get_blob(old) is None and store.get_blob(new) == b"new"


def test_stats_count_entries_bytes_and_hits(store):
    store.put_action(KEY, ActionResult(kind="layer"))
    store.get_action(KEY)
    store.get_action(KEY2)
    store.has_action(KEY2)
    store.put_blob(b"12345")
    store.flush_stats()
    stats = store.stats()
    assert stats.entries["ac"] == 1 and stats.entries["cas"] == 1
    assert stats.bytes["cas"] == 5
    assert (stats.counters["ac_hit"], stats.counters["ac_miss"]) == (1, 2)
    assert stats.hit_rate("ac") == pytest.approx(1 / 3)
    assert stats.hit_rate("eval") is None


def test_disk_stats_survive_processes(tmp_path):
    for _ in range(2):
        with DiskStore(str(tmp_path)) as store:
            store.get_action(KEY)
    assert DiskStore(str(tmp_path)).stats().counters["ac_miss"] == 2


def _hammer(root: str, worker: int) -> None:
    store = DiskStore(root)
    for i in range(200):
        payload = {"worker": str(worker), "i": str(i), "pad": "x" * (i * 50)}
        store.put_action(KEY, ActionResult(kind="layer", outputs=payload))
        store.put_blob(b"shared blob" * 1000)
        store.save_struct("graph", "shared", payload)
        result = store.get_action(KEY)
        if result is None or result.kind != "layer":
            raise SystemExit(3)


def test_two_processes_never_corrupt_the_store(tmp_path, caplog):
    root = str(tmp_path / "cache")
    DiskStore(root)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(root, w)) for w in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    store = DiskStore(root)
    with caplog.at_level(logging.WARNING, logger="chutes_build.cache"):
        assert store.get_action(KEY).kind == "layer"
        assert store.get_blob(blob_digest(b"shared blob" * 1000)) is not None
        assert store.get_record("graph", "shared") is not None
    assert not caplog.records
    assert os.listdir(os.path.join(root, "tmp")) == []


def test_a_failed_write_leaves_no_partial_entry(tmp_path, monkeypatch):
    store = DiskStore(str(tmp_path))

    def boom(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(
        CacheError, match=r"^the cache folder .* is on a full disk\n  fix: free space"
    ):
        store.put_action(KEY, ActionResult(kind="layer"))
    monkeypatch.undo()
    assert store.get_action(KEY) is None
    assert os.listdir(os.path.join(str(tmp_path), "tmp")) == []


def test_read_only_cache_folder_gives_a_clear_cache_error(tmp_path, monkeypatch):
    store = DiskStore(str(tmp_path))

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(
        CacheError, match=r"^the cache folder .* is not writable\n  fix: make it writable"
    ):
        store.put_blob(b"data")


def test_read_only_folder_refused_on_open():
    """A folder this user cannot write is refused with a clear error. Root writes into
    read-only folders, so as root the probe runs without the capabilities that let it
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): the same user and checkout, wherever the
    checkout lives, even in a folder no other user may enter."""
    outer = tempfile.mkdtemp(prefix="chutes-build-ro-")
    os.chmod(outer, 0o755)
    folder = os.path.join(outer, "ro")
    DiskStore(folder)
    os.chmod(folder, 0o555)
    probe = (
        "import sys\n"
        "from chutes_build.cache import DiskStore\n"
        "from chutes_build import CacheError\n"
        "try:\n"
        f"    DiskStore({str(folder)!r})\n"
        "except CacheError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    command = [*(prefix if os.geteuid() == 0 else []), sys.executable, "-c", probe]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(outer)
    assert result.returncode == 3, result.stderr
    assert re.match(r"^the cache folder .* is read-only", result.stdout), result.stdout


def test_cache_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CacheError, match=r"^cannot create the cache folder .*file"):
        DiskStore(str(tmp_path / "file"))


def test_default_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("CHUTES_BUILD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == str(tmp_path / "xdg" / "chutes-build")
    assert default_cache_dir(".cache", str(tmp_path / "ws")) == str(tmp_path / "ws" / ".cache")
    monkeypatch.setenv("CHUTES_BUILD_CACHE_DIR", str(tmp_path / "env"))
    assert default_cache_dir(".cache", str(tmp_path / "ws")) == str(tmp_path / "env")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("CHUTES_BUILD_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == str(tmp_path / "home" / ".cache" / "chutes-build")


@pytest.mark.parametrize(
    "text, size", [("100", 100), ("1KB", 1024), ("1.5 MB", 1572864), ("2GiB", 2 << 30)]
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text, seconds", [("30", 30), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("1w", 604800)]
)
def test_parse_age(text, seconds):
    assert parse_age(text) == seconds


def test_bad_size_and_age():
    with pytest.raises(CacheError, match=r"^invalid size '5 parsecs'\n  fix: use e\.g\. 500MB"):
        parse_size("5 parsecs")
    with pytest.raises(CacheError, match=r"^invalid age 'soon'\n  fix: use e\.g\. 30m"):
        parse_age("soon")


def test_envelope_detects_every_single_bit_flip():
    sealed = _atomic.seal(b"payload")
    for i in range(len(sealed)):
        for bit in range(8):
            damaged = sealed[:i] + bytes([sealed[i] ^ (1 << bit)]) + sealed[i + 1 :]
            assert _atomic.open_envelope(damaged)[0] is None


def test_gc_removes_temporary_files_left_by_a_killed_writer(tmp_path):
    store = DiskStore(str(tmp_path))
    stale, fresh = tmp_path / "tmp" / ".w-stale", tmp_path / "tmp" / ".w-fresh"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"in progress")
    os.utime(stale, (1, 1))
    store.gc()
    assert not stale.exists() and fresh.exists()


def test_gc_folds_the_stats_log(tmp_path):
    for _ in range(3):
        with DiskStore(str(tmp_path)) as store:
            store.get_action(KEY)
    store.gc()
    assert (tmp_path / "stats.log").read_text().count("\n") == 1
    assert DiskStore(str(tmp_path)).stats().counters["ac_miss"] == 3
