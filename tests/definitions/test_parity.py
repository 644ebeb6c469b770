"""`chutes-build dockerfile` prints exactly what the SDK's ``str(image)`` gives.

The same fixture files are rendered by the reference SDK (in its own venv,
cwd = the file's folder) and by chutes-build; the texts must be
byte-identical, plus the one newline the command ends its output with.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from chutes_build.cli import main

from .conftest import FIXTURES, clean_env

IMAGES = FIXTURES / "parity" / "images.py"

#: Every module-level Image of parity/images.py (checked against the SDK's list).
PARITY_IMAGES = [
    "bare", "from_base", "from_registry", "from_digest", "rebased", "people",
    "python_default", "python_in_workdir", "python_twice", "apt", "env", "commands",
    "adds", "urls", "entry_one", "entry_list", "entry_replaced", "in_place", "everything",
]  # fmt: skip


def render(capsys: pytest.CaptureFixture[str], target: str) -> str:
    capsys.readouterr()
    code = main(["dockerfile", target])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_fixture_covers_every_image(sdk: dict[str, dict]) -> None:
    probed = sdk["parity/images"]
    assert probed["error"] is None, probed.get("traceback")
    assert list(probed["images"]) == PARITY_IMAGES


@pytest.mark.parametrize("attr", PARITY_IMAGES)
def test_dockerfile_matches_sdk(attr: str, sdk: dict[str, dict], capsys) -> None:
    expected = sdk["parity/images"]["images"][attr]["text"]
    assert render(capsys, f"{IMAGES}:{attr}") == expected + "\n"


def test_chute_target_renders_its_image(sdk: dict[str, dict], capsys) -> None:
    chute = sdk["parity/images"]["chutes"]["chute"]
    assert render(capsys, f"{IMAGES}:chute") == chute["image"] + "\n"


def test_console_script_output_is_byte_identical(sdk: dict[str, dict], tmp_path) -> None:
    """The real command, run from another folder, with a path relative to that folder."""
    expected = sdk["parity/images"]["images"]["everything"]["text"] + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", "dockerfile", f"{IMAGES}:everything"],
        capture_output=True,
        cwd=tmp_path,
        env=clean_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == expected.encode()


def test_sdk_crashes_on_entrypoint_varargs_but_we_render_it(sdk: dict[str, dict], capsys) -> None:
    assert sdk["parity/entrypoint_varargs"]["error"].startswith("TypeError")
    out = render(capsys, f"{FIXTURES / 'parity' / 'entrypoint_varargs.py'}:image")
    assert out.splitlines()[-1] == 'ENTRYPOINT ["python", "-m", "app"]'


def test_sdk_rejects_hex_digits_in_checksum_but_we_accept(sdk: dict[str, dict], capsys) -> None:
    """The SDK's checksum pattern ``[a-f0-0]`` is a typo; a real sha256 must pass."""
    assert sdk["parity/checksum_hex"]["error"].startswith("AssertionError: Invalid checksum")
    out = render(capsys, f"{FIXTURES / 'parity' / 'checksum_hex.py'}:image")
    digest = "0123456789abcdef" * 4
    assert (
        out.splitlines()[-1]
        == f"ADD --checksum=sha256:{digest} https://example.com/model.bin /model.bin"
    )
