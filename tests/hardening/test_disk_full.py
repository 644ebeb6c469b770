"""Issue 7: a full disk or a read-only cache folder gives a clear error, and the cache
stays valid.

The cache folder is a real, tiny tmpfs (mounted as root), filled with a real file
until the kernel answers ENOSPC; read-only is the same tmpfs remounted ``ro``.
Under ``CI=true`` a machine where the mount is refused fails these tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from chutes_build.cache import ActionResult, DiskStore
from tests.conftest import require
from tests.hardening import _faults

FULL = r"^error: the cache folder {} is on a full disk\n  fix: free space"
READ_ONLY = r"^error: the cache folder {} is read-only\n  fix: make it writable"
COMMANDS = (["plan"], ["build"], ["up", "--target", "local"])


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def tiny(tmp_path, docker_engine, busybox_image):
    """A busybox monorepo whose cache folder is a 256 KiB tmpfs."""
    repo = _faults.busybox_repo(tmp_path, docker_engine, busybox_image)
    folder = repo.root / ".cache"
    folder.mkdir()
    mounted = _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder))
    require(mounted.returncode == 0, f"cannot mount a tmpfs (needs root): {mounted.stderr}")
    try:
        yield repo
    finally:
        _mount("-o", "remount,rw", str(folder))
        repo.cleanup()
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder) -> str:
    path = os.path.join(folder, "filler")
    with open(path, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 1024)
        except OSError as exc:
            assert exc.strerror == "No space left on device", exc
    return path


def _refused(repo, command, pattern: str) -> None:
    code, out, err = _faults.run_cli(repo, command)
    assert code == 1, (command, code, out[-2000:], err[-2000:])
    folder = re.escape(str(repo.root / ".cache"))
    assert re.match(pattern.format(folder), err), (command, err[-2000:])
    assert "Traceback" not in err + out, (command, err[-3000:])


def _evict_layers(repo) -> set[str]:
    store = DiskStore(str(repo.root / ".cache"))
    gone = set()
    for entry in store.entries():
        result = store.get_action(entry.name) if entry.area == "ac" else None
        if result is not None and result.kind == "layer":
            store._remove("ac", entry.name)
            gone.add(entry.name)
    return gone


def test_issue_7_a_full_cache_disk_gives_a_clear_error_and_stays_valid(tiny) -> None:
    folder = tiny.root / ".cache"
    tiny.cli("build")
    recorded = _faults.recorded_builds(tiny)

    # The inputs changed: the first write (the evaluation cache) meets the full disk.
    _faults.fresh_inputs(tiny, "changed")
    filler = _fill(folder)
    for command in COMMANDS:
        _refused(tiny, command, FULL)
    os.unlink(filler)
    assert _faults.verify(tiny) == ([], [])

    # Compiling writes nothing; the disk fills while the builds' results are written.
    tiny.cli("build")
    recorded = _faults.recorded_builds(tiny)
    evicted = _evict_layers(tiny)
    filler = _fill(folder)
    _refused(tiny, ["build"], FULL)
    assert _faults.verify(tiny) == ([], [])  # nothing torn reached a final name

    os.unlink(filler)
    start = _faults.log_size(tiny)
    tiny.cli("build")
    assert _faults.verify(tiny) == ([], [])
    rebuilt = {tag.split(":", 1)[1] for tag in tiny.builds(start)}
    assert not rebuilt & (recorded - evicted)
    checked = tiny.cli("cache", "verify")
    assert re.search(r": \d+ entries, 0 corrupt$", checked.stdout.strip()), checked.stdout


def test_issue_7_a_read_only_cache_folder_gives_a_clear_error(tiny) -> None:
    folder = tiny.root / ".cache"
    tiny.cli("build")
    _faults.fresh_inputs(tiny, "changed")
    remount = _mount("-o", "remount,ro", str(folder))
    require(remount.returncode == 0, f"cannot remount the tmpfs read-only: {remount.stderr}")
    for command in COMMANDS:
        _refused(tiny, command, READ_ONLY)
    assert _mount("-o", "remount,rw", str(folder)).returncode == 0
    assert _faults.verify(tiny) == ([], [])
    tiny.cli("build")
    assert _faults.verify(tiny) == ([], [])


# -- cache verify (no engine needed) ----------------------------------------------------------


def test_issue_7_cache_verify_names_a_corrupt_entry(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.chutes-build]\ncache-dir = ".cache"\n')
    store = DiskStore(str(tmp_path / ".cache"))
    key = "ab" * 16
    store.put_action(key, ActionResult(kind="layer", outputs={"tag": "x"}))
    store.put_blob(b"a log")
    store.save_struct("eval", "scope", {"a": 1})
    path = tmp_path / ".cache" / "ac" / key[:2] / key
    os.utime(path, (1, 1))  # long unused: verifying must not make it look used (gc order)
    argv = [sys.executable, "-m", "chutes_build.cli", "cache", "verify"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
    clean = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip().endswith(": 3 entries, 0 corrupt")
    assert path.stat().st_mtime == 1
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # a flipped bit: what a torn or rotten file looks like
    path.write_bytes(bytes(data))
    bad = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert re.search(rf"^corrupt: ac/{key}: checksum mismatch$", bad.stderr, re.M), bad.stderr
    assert store.get_action(key) is None  # a lookup reads it as a miss
