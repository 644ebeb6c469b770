"""Issue 13: the compatibility corpus loads under the real SDK and under chutes-build alike.

``corpus/`` holds chute files written the way public chute files are written (module-level
fastapi / pydantic / loguru imports, helper modules beside the file, templates, GPU names,
long shell text, try/except around definitions, in-place image calls, SDK submodules).
The reference SDK (``scripts/sdk-venv``) describes each file through ``sdk_probe.py``;
chutes-build loads the same files and must agree: the same Dockerfile text, uids, cords
and their schemas, node selector and chute attributes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chutes_build import Chute, ChutePack, Image
from chutes_build.cli import main
from chutes_build.workspace._workspace import find_workspace, load_paths
from tests.definitions.conftest import PROBE, clean_env
from tests.definitions.sdk_probe import CHUTE_ATTRIBUTES

CORPUS = Path(__file__).resolve().with_name("corpus")
FILES = sorted(p.name for p in CORPUS.glob("chute_*.py"))


def describe_cord(cord) -> dict:
    return {
        "path": cord.path,
        "passthrough_path": cord.passthrough_path,
        "public_api_path": cord.public_api_path,
        "public_api_method": cord.public_api_method,
        "method": cord.method,
        "stream": cord.stream,
        "passthrough": cord.passthrough,
        "function": cord.name,
        "input_schema": cord.input_schema,
        "minimal_input_schema": cord.minimal_input_schema,
        "output_schema": cord.output_schema,
        "output_content_type": cord.output_content_type,
    }


def describe_chute(chute: Chute) -> dict:
    image = chute.image
    return {
        "name": chute.name,
        "uid": chute.uid,
        "image": str(image) if isinstance(image, Image) else image,
        "image_uid": image.uid if isinstance(image, Image) else None,
        "node_selector": chute.node_selector.dict() if chute.node_selector else None,
        "cords": [describe_cord(c) for c in chute.cords],
        "attributes": {name: getattr(chute, name, None) for name in CHUTE_ATTRIBUTES},
    }


def describe(module) -> dict:
    images, chutes = {}, {}
    for attr, value in vars(module).items():
        if isinstance(value, ChutePack):
            value = value.chute
        if isinstance(value, Image):
            images[attr] = {"text": str(value), "uid": value.uid}
        elif isinstance(value, Chute):
            chutes[attr] = describe_chute(value)
    return {"images": images, "chutes": chutes}


@pytest.fixture(scope="module")
def sdk_view(sdk_python: str) -> dict[str, dict]:
    proc = subprocess.run(
        [sdk_python, str(PROBE), *(str(CORPUS / name) for name in FILES)],
        capture_output=True, text=True, env=clean_env(), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {Path(path).name: value for path, value in json.loads(proc.stdout).items()}


@pytest.fixture(scope="module")
def ours() -> dict[str, object]:
    workspace = find_workspace(str(CORPUS))
    loaded = load_paths(workspace, [str(CORPUS / name) for name in FILES])
    return {Path(item.path).name: item for item in loaded}


def test_issue_13_the_corpus_has_thirty_files() -> None:
    assert len(FILES) >= 30


def test_issue_13_every_corpus_file_loads_under_the_sdk(sdk_view: dict[str, dict]) -> None:
    failed = {name: view["error"] for name, view in sdk_view.items() if view["error"]}
    assert failed == {}


#: Files the SDK loads but chutes-build does not yet, and why.
LOAD_GAPS: dict[str, str] = {}
#: Files that load under both but whose cord schemas differ from the SDK's.
SCHEMA_GAPS: dict[str, str] = {}
SCHEMAS = ("input_schema", "minimal_input_schema", "output_schema")


def cases(*gaps: dict[str, str]) -> list:
    known = {name: reason for gap in gaps for name, reason in gap.items()}
    return [
        pytest.param(n, marks=pytest.mark.xfail(reason=known[n], strict=True)) if n in known else n
        for n in FILES
    ]


def both(name: str, sdk_view: dict, ours: dict) -> tuple[dict, dict]:
    sdk = sdk_view[name]
    if sdk["error"]:
        pytest.fail(f"the SDK cannot load {name}: {sdk['error']}")
    loaded = ours[name]
    assert loaded.error is None, str(loaded.error)
    return sdk, describe(loaded.module)


def without_schemas(chute: dict) -> dict:
    cords = [{k: v for k, v in cord.items() if k not in SCHEMAS} for cord in chute["cords"]]
    return {**chute, "cords": cords}


@pytest.mark.parametrize("name", cases(LOAD_GAPS))
def test_issue_13_corpus_definitions_agree_with_the_sdk(name: str, sdk_view, ours) -> None:
    """Dockerfile text, uids, node selector, chute attributes and cord routing."""
    sdk, mine = both(name, sdk_view, ours)
    assert mine["images"] == sdk["images"]
    assert sorted(mine["chutes"]) == sorted(sdk["chutes"])
    for attr, chute in sdk["chutes"].items():
        assert without_schemas(mine["chutes"][attr]) == without_schemas(chute), attr


@pytest.mark.parametrize("name", cases(LOAD_GAPS, SCHEMA_GAPS))
def test_issue_13_corpus_cord_schemas_agree_with_the_sdk(name: str, sdk_view, ours) -> None:
    sdk, mine = both(name, sdk_view, ours)
    for attr, chute in sdk["chutes"].items():
        for theirs, my in zip(chute["cords"], mine["chutes"][attr]["cords"], strict=True):
            assert {k: my[k] for k in SCHEMAS} == {k: theirs[k] for k in SCHEMAS}, my["function"]


DOCKERFILE_FILES = [
    "chute_01_echo_pydantic.py", "chute_02_helper_module.py", "chute_08_long_shell.py",
    "chute_09_empty_continuation.py", "chute_11_in_place.py", "chute_20_add_files.py",
]  # fmt: skip


@pytest.mark.parametrize("name", DOCKERFILE_FILES)
def test_issue_13_dockerfile_command_prints_the_sdk_text(name: str, sdk_view, capsys) -> None:
    attr, chute = next(iter(sdk_view[name]["chutes"].items()))
    capsys.readouterr()
    assert main(["dockerfile", f"{CORPUS / name}:{attr}"]) == 0
    assert capsys.readouterr().out == chute["image"] + "\n"
