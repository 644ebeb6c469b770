"""File digests: content hashes, remembered by stat so an unchanged tree is not re-read."""

from __future__ import annotations

import os

import pytest
import xxhash

from chutes_build.cache import DiskStore, FileDigests, MemoryStore


@pytest.fixture(params=["memory", "disk"])
def store(request, tmp_path):
    return MemoryStore() if request.param == "memory" else DiskStore(str(tmp_path / "cache"))


def write(path, text: str, age: float = 10.0) -> None:
    """Write ``text`` and date the file ``age`` seconds back (older than the racy window)."""
    path.write_text(text)
    stamp = path.stat().st_mtime - age
    os.utime(path, (stamp, stamp))


def test_digest_is_xxh3_128_of_the_content(tmp_path):
    write(tmp_path / "a.py", "print(1)\n")
    found = FileDigests(str(tmp_path)).get("a.py")
    assert found.digest == xxhash.xxh3_128_hexdigest(b"print(1)\n")
    assert found.mode == 0o644 or found.mode == (0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_unchanged_files_are_not_read_again(tmp_path, store):
    root = tmp_path / "ws"
    root.mkdir()
    for name in ("a.py", "b.py"):
        write(root / name, name)
    first = FileDigests(str(root), store)
    first.get("a.py"), first.get("b.py")
    first.save()
    assert first.hashed == 2
    second = FileDigests(str(root), store)
    assert second.get("a.py").digest == xxhash.xxh3_128_hexdigest(b"a.py")
    second.get("b.py")
    assert second.hashed == 0


def test_a_changed_file_is_read_again(tmp_path, store):
    write(tmp_path / "a.py", "one")
    first = FileDigests(str(tmp_path), store)
    first.get("a.py")
    first.save()
    write(tmp_path / "a.py", "two!", age=5.0)
    second = FileDigests(str(tmp_path), store)
    assert second.get("a.py").digest == xxhash.xxh3_128_hexdigest(b"two!")
    assert second.hashed == 1


def test_racily_clean_files_are_not_trusted(tmp_path, store):
    (tmp_path / "a.py").write_text("one")  # mtime: now
    first = FileDigests(str(tmp_path), store)
    first.get("a.py")
    first.save()
    second = FileDigests(str(tmp_path), store)
    second.get("a.py")
    assert second.hashed == 1


def test_mode_change_is_seen(tmp_path):
    write(tmp_path / "run.sh", "echo")
    os.chmod(tmp_path / "run.sh", 0o755)
    assert FileDigests(str(tmp_path)).get("run.sh").mode == 0o755


def test_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        FileDigests(str(tmp_path)).get("nope.py")
