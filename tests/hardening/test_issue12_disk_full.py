"""Issue 12: a full disk says which folder is full, how much is free there, and the fix.

The build context is written under the temporary folder (``TMPDIR``); when that disk is
full a build used to end in a bare ``[Errno 28] No space left on device``. The folders
are real, tiny tmpfs mounts (as root) filled until the kernel answers ENOSPC; under
``CI=true`` a machine that refuses the mount fails these tests.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from chutes_build import CacheError
from chutes_build.cache import DiskStore
from tests.conftest import require
from tests.hardening._issue12 import cli

docker = pytest.mark.docker

CHUTE = """\
from chutes_build import Chute, Image

image = Image(username="t", name="full", tag="1").from_base("base").add("data", "/app/data")
chute = Chute(username="t", name="full", image=image)
"""
PYPROJECT = """\
[tool.chutes-build]
chutes = ["chutes/*.py"]
cache-dir = ".cache"
network = "none"
base-images = {{ "base" = "{base}" }}
"""


@pytest.fixture
def small_folder(tmp_path):
    """A 1 MiB tmpfs."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    require(mounted.returncode == 0, f"cannot mount a tmpfs (needs root): {mounted.stderr}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def full_folder(small_folder):
    """The 1 MiB tmpfs, filled up."""
    with open(small_folder / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 1024)
        except OSError as exc:
            assert exc.strerror == "No space left on device", exc
    return small_folder


@docker
def test_issue_12_a_context_larger_than_the_temporary_disk_names_it_and_the_fix(
    tmp_path, small_folder, docker_engine, busybox_image
) -> None:
    root = tmp_path / "ws"
    (root / "chutes" / "data").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(base=busybox_image))
    (root / "chutes" / "full.py").write_text(CHUTE)
    (root / "chutes" / "data" / "big.bin").write_bytes(os.urandom(2 << 20))
    env = {"TMPDIR": str(small_folder), "CHUTES_BUILD_DOCKER": docker_engine}
    code, out, err = cli(root, "build", env_extra=env)
    assert code == 1, (out[-2000:], err[-2000:])
    pattern = (
        rf"(?m)^no space left in {re.escape(str(small_folder))} for the build context "
        r"\(\d+(\.\d)? (bytes|KiB|MiB) free; the context needs 2\.0 MiB\)\n"
        r"  fix: free space there \(`chutes-build cache gc --max-size 5GB`"
    )
    assert re.search(pattern, out + err), (out[-2000:], err[-2000:])
    assert "Errno" not in out + err and "Traceback" not in out + err, err[-3000:]
    assert os.listdir(small_folder) == [], os.listdir(small_folder)  # no partial context left


def test_issue_12_a_full_cache_disk_says_how_much_is_free(full_folder) -> None:
    store = DiskStore(str(full_folder / "cache")) if _room_for_folders(full_folder) else None
    with pytest.raises(CacheError) as info:
        (store or DiskStore(str(full_folder))).put_blob(os.urandom(64 * 1024))
    where = re.escape(str(full_folder / "cache") if store else str(full_folder))
    assert re.match(
        rf"^the cache folder {where} is on a full disk\n  fix: free space \(\d+ (bytes|KiB) "
        r"free there now\), or make room in the cache: `chutes-build cache gc --max-size 5GB`$",
        str(info.value),
    ), str(info.value)


def _room_for_folders(folder) -> bool:
    try:
        DiskStore(str(folder / "cache"))
    except CacheError:
        return False
    return True
