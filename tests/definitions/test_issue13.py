"""Issue 13: what the SDK and the platform accept loads here too, with a warning where it
looks wrong; ``--strict`` turns the warnings into errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chutes_build import DefinitionError, Image, NodeSelector
from chutes_build.core._warnings import collecting
from chutes_build.workspace._workspace import find_workspace, load_paths

from .conftest import clean_env

HEADER = "from chutes.chute import Chute, NodeSelector\nfrom chutes.image import Image\n\n"
IMAGE = 'image = Image(username="u", name="app", tag="1")\n'
CHUTE = 'chute = Chute(username="u", name="app", image=image, node_selector=selector)\n'


def write(tmp_path: Path, body: str, name: str = "chute.py", strict: bool = False) -> Path:
    setting = "strict = true\n" if strict else ""
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.chutes-build]\nchutes = ["*.py"]\ncache-dir = ".cache"\n{setting}'
    )
    path = tmp_path / name
    path.write_text(body)
    return path


def load(path: Path):
    return load_paths(find_workspace(str(path)), [str(path)])[0]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", *args],
        capture_output=True, text=True, cwd=cwd, env={**clean_env(), "COLUMNS": "200"},
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("gpu", ["h800", "4090", "pro_6000"])
def test_issue_13_gpus_the_platform_knows_load(tmp_path: Path, gpu: str) -> None:
    path = write(tmp_path, HEADER + IMAGE + f'selector = NodeSelector(include=["{gpu}"])\n' + CHUTE)
    loaded = load(path)
    assert loaded.error is None, str(loaded.error)
    [(_, chute)] = loaded.chutes
    assert chute.node_selector.include == (gpu,)
    assert chute.node_selector.supported_gpus == [gpu]
    assert loaded.warnings == []  # known to the catalogue: the platform takes it


def test_issue_13_unknown_gpu_is_a_warning_naming_the_line(tmp_path: Path) -> None:
    selector = 'selector = NodeSelector(include=["h100", "rtx9999"])\n'
    path = write(tmp_path, HEADER + IMAGE + selector + CHUTE)
    loaded = load(path)
    assert loaded.error is None and len(loaded.chutes) == 1
    [warning] = loaded.warnings
    assert re.match(
        r"^.*chute\.py:5: node selector include names the GPU 'rtx9999', which chutes-build's "
        r"catalogue lacks \(the platform decides whether it exists\)\n  fix: .*known GPUs: 3090",
        str(warning),
    ), str(warning)
    assert loaded.chutes[0][1].node_selector.supported_gpus == ["h100"]


def test_issue_13_unknown_selector_keyword_warns_with_did_you_mean(tmp_path: Path) -> None:
    body = (
        HEADER + IMAGE + "selector = NodeSelector(gpu_count=2, min_vram_gpu_per_gpu=48)\n" + CHUTE
    )
    loaded = load(write(tmp_path, body))
    assert loaded.error is None
    assert loaded.chutes[0][1].node_selector.dict()["min_vram_gb_per_gpu"] == 16  # ignored
    [warning] = loaded.warnings
    assert re.match(
        r"^.*chute\.py:5: NodeSelector\(\) got the unknown keyword 'min_vram_gpu_per_gpu', "
        r"which the SDK ignores\n  fix: did you mean 'min_vram_gb_per_gpu'\?$",
        str(warning),
    ), str(warning)


def test_issue_13_selector_additions_of_sdk_0_6_10() -> None:
    selector = NodeSelector(min_vram_gb_per_gpu=140, max_hourly_price_per_gpu=3.0)
    assert selector.dict()["max_hourly_price_per_gpu"] == 3.0
    assert selector.supported_gpus == ["h200"]
    with pytest.raises(DefinitionError, match=r"^.*: node selector min_vram_gb_per_gpu must be"):
        NodeSelector(min_vram_gb_per_gpu=141)


def test_issue_13_continuation_onto_empty_line_keeps_the_sdk_text_and_warns() -> None:
    command = "apt-get update && \\\n\n    apt-get install -y curl \\\n    # the tools\n    git"
    with collecting() as notes:
        image = Image(username="u", name="a", tag="1").run_command(command)
    assert str(image).split("\n", 1)[1] == "RUN " + command
    [warning] = notes.warnings
    assert re.match(
        r"^.*test_issue13\.py:\d+: run_command\(\) 'apt-get .*\.\.\. continues onto an empty or "
        r"comment line \(2 of them\): Docker drops such lines",
        str(warning),
    ), str(warning)


@pytest.mark.parametrize(
    ("command", "pattern"),
    [
        ("a \\\n\n", r"continues onto an empty or comment line at its end, which would join"),
        ("a \\\n  # c\n", r"continues onto an empty or comment line at its end"),
        ("a \\\n\nb\nc", r"contains a line break that is not a backslash continuation"),
        ("a \\\n\n--mount=x b", None),
    ],
)
def test_issue_13_continuations_that_change_instructions_are_refused(
    command: str, pattern: str | None
) -> None:
    try:
        image = Image(username="u", name="a", tag="1").run_command(command)
    except DefinitionError as exc:
        assert pattern and re.search(pattern, exc.message), exc.message
        return
    assert pattern is None  # joined, '--mount' is a word inside the command, not a flag
    assert str(image).endswith(command)


def test_issue_13_add_name_with_a_newline_says_what_is_wrong() -> None:
    with pytest.raises(DefinitionError) as info:
        Image(username="u", name="a", tag="1").add("data\nRUN x", "/app")
    assert re.match(
        r"^.*test_issue13\.py:\d+: add\(\) source 'data\\nRUN x' contains a line break",
        str(info.value),
    ), str(info.value)


CAUGHT = HEADER + (
    "try:\n"
    '    image = Image(username="u", name="app", tag="1").with_env("1BAD", "x")\n'
    '    chute = Chute(username="u", name="app", image=image)\n'
    "except Exception as exc:\n"
    '    print("could not define the chute:", exc)\n'
)


def test_issue_13_definition_error_caught_by_the_file_is_reported(tmp_path: Path) -> None:
    error = load(write(tmp_path, CAUGHT)).error
    assert re.match(
        r"^.*chute\.py:5: invalid environment variable name '1BAD'\n  fix: ", str(error)
    ), str(error)


@pytest.mark.parametrize("command", [["ls"], ["dockerfile", "chute.py:chute"], ["plan"]])
def test_issue_13_caught_error_reaches_the_command_line(tmp_path: Path, command) -> None:
    write(tmp_path, CAUGHT)
    result = cli(*command, cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(
        r"^error: chute\.py:5: invalid environment variable name '1BAD'\n  fix: ",
        result.stderr,
        re.M,
    ), result.stderr
    assert "Traceback" not in result.stderr and "no chute found" not in result.stderr


def test_issue_13_missing_sdk_package_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pybase64", None)  # an import of it now fails
    body = HEADER + "import os\nimport pybase64\n" + IMAGE
    error = load(write(tmp_path, body)).error
    assert re.match(
        r"^.*chute\.py:5: no module named 'pybase64': chute files written for the chutes SDK "
        r"import it, and the SDK installs it\n  fix: pip install 'chutes-build\[sdk\]'",
        str(error),
    ), str(error)


def test_issue_13_other_missing_module_keeps_the_plain_error(tmp_path: Path) -> None:
    error = load(write(tmp_path, HEADER + "import not_a_real_module_xyz\n")).error
    assert re.match(
        r"^.*chute\.py:4: importing the chute file raised ModuleNotFoundError", str(error)
    )


SELECTOR_TYPO = (
    HEADER
    + IMAGE
    + 'selector = NodeSelector(include=["rtx9999"], min_vram_gpu_per_gpu=24)\n'
    + CHUTE
)


def test_issue_13_ls_prints_each_warning_once_and_json_carries_them(tmp_path: Path) -> None:
    write(tmp_path, SELECTOR_TYPO)
    human = cli("ls", cwd=tmp_path)
    assert human.returncode == 0, human.stderr
    lines = [line for line in human.stderr.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 2 and len(set(lines)) == 2, human.stderr
    assert re.match(r"^warning: chute\.py:5: NodeSelector\(\) got the unknown keyword", lines[0])
    machine = cli("ls", "--json", cwd=tmp_path)
    data = json.loads(machine.stdout)
    assert [(w["file"], w["line"]) for w in data["warnings"]] == [("chute.py", 5), ("chute.py", 5)]
    assert {w["chute_file"] for w in data["warnings"]} == {"chute.py"}
    assert len(data["chutes"]) == 1 and data["errors"] == []


@pytest.mark.parametrize("command", [["ls"], ["plan"], ["dockerfile", "chute.py:chute"]])
def test_issue_13_strict_turns_warnings_into_errors(tmp_path: Path, command: list[str]) -> None:
    write(tmp_path, SELECTOR_TYPO)
    assert cli(*command, cwd=tmp_path).returncode == 0
    strict = cli(*command, "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert re.search(
        r"^error: chute\.py:5: NodeSelector\(\) got the unknown keyword 'min_vram_gpu_per_gpu', "
        r"which the SDK ignores \(an error under --strict\)\n  fix: did you mean",
        strict.stderr,
        re.M,
    ), strict.stderr


def test_issue_13_workspace_strict_setting(tmp_path: Path) -> None:
    write(tmp_path, SELECTOR_TYPO, strict=True)
    result = cli("ls", cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r"^error: chute\.py:5: .* \(an error under --strict\)$", result.stderr, re.M)


#: The GPU keys of the newest platform ``api/gpu.py`` stored for chutesai/chutes-api
#: (commit d390a53, Oct 2025).
PLATFORM_GPUS = (
    "3090", "4090", "5090", "a4000", "a4000_ada", "a5000", "a6000", "a6000_ada", "pro_6000",
    "l4", "a10", "a40", "l40", "l40s", "a100_40gb", "a100_40gb_sxm", "a100", "a100_sxm",
    "h100", "h100_nvl", "h100_sxm", "h800", "h20", "h200", "mi300x", "b200",
)  # fmt: skip


def test_issue_13_catalogue_knows_every_gpu_of_the_platform() -> None:
    from chutes_build import GPUS

    assert set(PLATFORM_GPUS) <= set(GPUS)
    for gpu in PLATFORM_GPUS:
        with collecting() as notes:
            NodeSelector(include=[gpu], min_vram_gb_per_gpu=16)
        assert notes.warnings == [], gpu
