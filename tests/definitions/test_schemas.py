"""Cord schemas equal the SDK's key for key and in the SDK's key order (issue 13, item 4).

The SDK (in its own venv) describes schemas/models.py and schemas/cords.py;
chutes-build loads those files and schemas/structs.py (msgspec Structs with
models.py's fields). Schemas are compared as JSON text, so a key out of
place fails as surely as a missing one: the platform and its OpenAPI pages
show them as they are sent.
"""

from __future__ import annotations

import json
import re
import subprocess

import msgspec
import pytest

from chutes_build import Chute, DefinitionError
from chutes_build.definitions._schema import model_json_schema
from chutes_build.definitions._struct_schema import struct_json_schema
from chutes_build.workspace._workspace import find_workspace, load_paths

from .conftest import FIXTURES, PROBE, clean_env

SCHEMA_FIELDS = ("input_schema", "minimal_input_schema", "output_schema", "output_content_type")
FILES = ("schemas/models.py", "schemas/cords.py")


@pytest.fixture(scope="module")
def sdk_cords(sdk_python: str) -> dict[str, list[dict]]:
    paths = [str(FIXTURES / rel) for rel in FILES]
    proc = subprocess.run(
        [sdk_python, str(PROBE), *paths], capture_output=True, text=True, env=clean_env()
    )
    assert proc.returncode == 0, proc.stderr
    described = json.loads(proc.stdout)
    out = {}
    for rel, path in zip(FILES, paths, strict=True):
        assert described[path]["error"] is None, described[path].get("traceback")
        out[rel] = described[path]["chutes"]["chute"]["cords"]
    return out


def our_cords(rel: str) -> list[dict]:
    path = str(FIXTURES / rel)
    loaded = load_paths(find_workspace(path), [path])[0]
    assert loaded.error is None, str(loaded.error)
    chute = dict(loaded.chutes)["chute"]
    return [{"function": c.name, **c.definition()} for c in chute.cords]


def as_text(value: object) -> str:
    return json.dumps(value, indent=1)


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        ("schemas/models.py", "schemas/models.py"),
        ("schemas/structs.py", "schemas/models.py"),
        ("schemas/cords.py", "schemas/cords.py"),
    ],
)
def test_issue_13_cord_schemas_are_the_sdks_in_its_key_order(
    sdk_cords: dict[str, list[dict]], ours: str, reference: str
) -> None:
    expected, mine = sdk_cords[reference], our_cords(ours)
    assert [c["function"] for c in mine] == [c["function"] for c in expected]
    for sdk_cord, my_cord in zip(expected, mine, strict=True):
        for field in SCHEMA_FIELDS:
            where = (ours, sdk_cord["function"], field)
            assert as_text(my_cord[field]) == as_text(sdk_cord[field]), where


def test_structs_fixture_mirrors_every_model() -> None:
    """structs.py defines a Struct for each model of models.py, under the same name."""
    import ast

    def classes(rel: str) -> list[str]:
        tree = ast.parse((FIXTURES / rel).read_text())
        return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]

    assert classes("schemas/structs.py") == classes("schemas/models.py")


class Node(msgspec.Struct, kw_only=True):
    value: int
    children: list[Node] = []


def test_a_recursive_struct_refers_to_itself_as_pydantic_does() -> None:
    schema = struct_json_schema(Node)
    assert list(schema) == ["$defs", "$ref"]
    assert schema["$ref"] == "#/$defs/Node"
    node = schema["$defs"]["Node"]
    assert node["properties"]["children"] == {
        "items": {"$ref": "#/$defs/Node"},
        "title": "Children",
        "type": "array",
    }
    assert node["required"] == ["value"]


class Renamed(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    max_tokens: int = 16


def test_wire_names_and_forbidden_extras_reach_the_schema() -> None:
    schema = model_json_schema(Renamed)
    assert list(schema) == ["additionalProperties", "properties", "title", "type"]
    assert schema["additionalProperties"] is False
    tokens = {"default": 16, "title": "Maxtokens", "type": "integer"}
    assert schema["properties"] == {"maxTokens": tokens}


class Dangling(msgspec.Struct):
    item: Missing  # noqa: F821 - never defined


def test_a_struct_naming_an_undefined_type_is_a_definition_error() -> None:
    chute = Chute(username="alice", name="c", image="parachutes/python:3.12")
    with pytest.raises(DefinitionError) as caught:

        @chute.cord()
        async def use(self, body: Dangling) -> None:
            return None

    error = caught.value
    assert re.match(
        r"^cannot derive the JSON Schema of Dangling: name 'Missing' is not defined$", error.message
    )
    assert re.match(r"^define or import every type the fields of Dangling name", error.fix)
    assert error.file == __file__
