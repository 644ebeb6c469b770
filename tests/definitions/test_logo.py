"""``logo=`` of ``Chute`` and ``Image``: checked at definition time, located at the call."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from chutes_build import Image
from chutes_build.core._errors import DefinitionError
from chutes_build.definitions._context import workspace_root
from chutes_build.definitions._logo import logo_content_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
GIF = b"GIF89a" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16

CHUTE = """\
from chutes_build import Chute, Image, NodeSelector

img = Image("alice", "img", "1.0", {image_logo})
chute = Chute(username="alice", name="alpha", image=img,
              node_selector=NodeSelector(gpu_count=1), logo={chute_logo})
"""


def _run(root: Path, chute_logo: str | None = None, image_logo: str | None = None) -> dict:
    folder = root / "chutes"
    folder.mkdir(exist_ok=True)
    image_arg = f"logo={image_logo!r}" if image_logo is not None else ""
    path = folder / "alpha.py"
    path.write_text(CHUTE.format(chute_logo=repr(chute_logo), image_logo=image_arg))
    token = workspace_root.set(str(root))
    try:
        return runpy.run_path(str(path))
    finally:
        workspace_root.reset(token)


def test_logos_resolve_relative_to_the_defining_file(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.png").write_bytes(PNG)
    (tmp_path / "chutes").mkdir()
    (tmp_path / "chutes" / "img.webp").write_bytes(WEBP)
    found = _run(tmp_path, chute_logo="../assets/a.png", image_logo="img.webp")
    assert found["chute"].logo == str((tmp_path / "assets" / "a.png").resolve())
    assert found["img"].logo == str((tmp_path / "chutes" / "img.webp").resolve())
    assert found["img"].apt_install("git").logo == found["img"].logo  # builders keep it


@pytest.mark.parametrize(
    ("files", "logo", "message"),
    [
        ({}, "../assets/missing.png", r"logo '\.\./assets/missing\.png' does not exist"),
        ({"assets/a.txt": PNG}, "../assets/a.txt", "not an image file by its extension"),
        ({"assets/a.png": b"hello"}, "../assets/a.png", "is not an image, but its extension"),
        ({"assets/a.png": GIF}, "../assets/a.png", "is an image/gif file, but its extension"),
        ({}, "../../outside.png", "outside the workspace root"),
        ({}, "/etc/logo.png", "is an absolute path"),
    ],
)
def test_bad_chute_logo_is_a_definition_error_at_the_call(tmp_path, files, logo, message):
    root = tmp_path / "ws"
    (root / "assets").mkdir(parents=True)
    (tmp_path / "outside.png").write_bytes(PNG)
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    with pytest.raises(DefinitionError, match=message) as caught:
        _run(root, chute_logo=logo)
    error = caught.value
    assert (Path(error.file).name, error.line) == ("alpha.py", 4), error
    assert "chute 'alpha'" in str(error) and "fix:" in str(error)


def test_bad_image_logo_is_located_at_the_image_call(tmp_path):
    with pytest.raises(DefinitionError, match="image img:1.0: logo 'nope.gif' does not") as caught:
        _run(tmp_path, image_logo="nope.gif")
    assert (Path(caught.value.file).name, caught.value.line) == ("alpha.py", 3)


def test_image_keeps_the_sdk_positional_signature():
    image = Image("alice", "img", "1.0", "readme text")
    assert (image.readme, image.logo) == ("readme text", None)
    with pytest.raises(TypeError):
        Image("alice", "img", "1.0", "readme", "logo.png")  # logo is keyword-only


def test_content_types_by_magic():
    assert [logo_content_type(d) for d in (PNG, GIF, JPEG, WEBP, b"text")] == [
        "image/png", "image/gif", "image/jpeg", "image/webp", None]  # fmt: skip
