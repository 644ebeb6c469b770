"""What chute files print while loading never mixes into the command's output."""

from __future__ import annotations

import json

NOISY = """\
import sys

from chutes.chute import Chute
from chutes.image import Image

print("loading the noisy chute")
sys.stdout.write("more noise\\n")
image = Image(username="alice", name="noisy", tag="1").run_command("echo hi")
chute = Chute(username="alice", name="noisy", image=image)
"""


def test_prints_go_to_stderr(cli, cli_process, workspace) -> None:
    root = workspace(extra={"noisy.py": NOISY})
    result = cli_process("ls", "--json", "noisy.py", cwd=root)
    assert result.code == 0, result.stderr
    assert [c["name"] for c in json.loads(result.stdout)["chutes"]] == ["noisy"]
    assert "loading the noisy chute" in result.stderr and "more noise" in result.stderr

    result = cli("dockerfile", "noisy.py:chute", cwd=root)
    assert result.code == 0, result.stderr
    assert result.stdout == "FROM parachutes/python:3.12\nRUN echo hi\n"


def test_sys_exit_in_a_chute_file_is_a_clean_error(cli, workspace) -> None:
    root = workspace(extra={"exits.py": "import sys\n\nsys.exit(3)\nChute = None\n"})
    result = cli("ls", "exits.py", cwd=root)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "error: exits.py:3: importing the chute file raised SystemExit: 3\n  fix: "
    )
