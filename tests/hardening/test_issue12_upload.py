"""Issue 12: the platform upload zips exactly the bytes the image's key was computed from.

The chutes target hashes ``add()`` files when it compiles the graph and zips them for
``POST /images/`` later. A file saved in between must refuse the upload (before any
request is made), never send other bytes under the recorded key; a FIFO among the
sources must not block the zip.
"""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
import trio
import xxhash

from chutes_build import ChutesBuildError, Image
from chutes_build.cache import FileDigests
from chutes_build.platform import build_context, ensure_image

CHANGED = (
    r"^src/b\.py changed while building: the upload zip does not hold the content the "
    r"image's cache key was computed from, so nothing was recorded for it\n  fix: run again"
)


@pytest.fixture
def sources(tmp_path):
    for name, text in {"a.py": "A = 1\n", "b.py": "B = 2\n"}.items():
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / name).write_text(text)
    digests = FileDigests(str(tmp_path))
    files = {rel: str(tmp_path / rel) for rel in ("src/a.py", "src/b.py")}
    expected = {rel: (digests.get(rel).digest, digests.get(rel).mode) for rel in files}
    return tmp_path, files, expected


def test_issue_12_the_zip_holds_the_hashed_bytes(sources) -> None:
    _, files, expected = sources
    archive = build_context(files, expected=expected)
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
        found = {name: xxhash.xxh3_128_hexdigest(zipped.read(name)) for name in zipped.namelist()}
    assert found == {rel: digest for rel, (digest, _) in expected.items()}


@pytest.mark.parametrize("style", ["in-place", "editor", "chmod"])
def test_issue_12_a_file_saved_after_hashing_refuses_the_upload(sources, style) -> None:
    root, files, expected = sources
    target = root / "src" / "b.py"
    if style == "in-place":
        target.write_text("B = 3\n")
    elif style == "editor":
        (root / "src" / ".b.py.swp").write_text("B = 3\n")
        os.replace(root / "src" / ".b.py.swp", target)
    else:
        target.chmod(0o755)
    with pytest.raises(ChutesBuildError) as info:
        build_context(files, expected=expected)
    assert re.match(CHANGED, str(info.value)), str(info.value)
    image = Image(username="me", name="app", tag="1")

    async def upload() -> None:  # refused before any request: the client is never used
        await ensure_image(None, image, files, expected=expected)

    with pytest.raises(ChutesBuildError) as info:
        trio.run(upload)
    assert re.match(CHANGED, str(info.value)), str(info.value)


def test_issue_12_a_fifo_among_the_sources_does_not_block_the_zip(sources) -> None:
    root, files, _ = sources
    os.mkfifo(root / "src" / "pipe")
    with pytest.raises(ChutesBuildError) as info:
        build_context({**files, "src/pipe": str(root / "src" / "pipe")})
    assert re.match(
        r"^src/pipe is a FIFO \(named pipe\): only regular files can be uploaded\n  fix: ",
        str(info.value),
    ), str(info.value)
