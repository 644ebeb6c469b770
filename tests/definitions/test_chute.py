"""``Chute`` and ``Cord``: options, paths, uids and schemas, checked against the SDK."""

from __future__ import annotations

import re
import uuid

import msgspec
import pytest
from pydantic import BaseModel

from chutes_build import Chute, DefinitionError, DuplicatePath, Image, InvalidPath, NodeSelector
from chutes_build.workspace._workspace import find_workspace, load_paths

from .conftest import FIXTURES

SCHEMA_CORDS = [
    "plain", "optional", "generics", "literal", "enums", "model", "passthrough", "explicit",
    "minimal", "unannotated", "full_output",
]  # fmt: skip
COMPARED = [
    "path", "passthrough_path", "public_api_path", "public_api_method", "method", "stream",
    "passthrough", "function", "input_schema", "minimal_input_schema", "output_schema",
    "output_content_type",
]  # fmt: skip


def load_fixture(rel: str):
    path = str(FIXTURES / rel)
    loaded = load_paths(find_workspace(path), [path], require_chute=False)[0]
    assert loaded.error is None, str(loaded.error)
    return loaded


@pytest.fixture(scope="module")
def schema_chute() -> Chute:
    return dict(load_fixture("schemas/cords.py").chutes)["chute"]


def ours(cord) -> dict:
    return {**cord.definition(), "passthrough_path": cord.passthrough_path}


def test_schema_fixture_covers_every_cord(sdk: dict[str, dict], schema_chute: Chute) -> None:
    probed = sdk["schemas/cords"]
    assert probed["error"] is None, probed.get("traceback")
    assert [c["function"] for c in probed["chutes"]["chute"]["cords"]] == SCHEMA_CORDS
    assert [c.name for c in schema_chute.cords] == SCHEMA_CORDS


@pytest.mark.parametrize("field", COMPARED)
@pytest.mark.parametrize("index", range(len(SCHEMA_CORDS)), ids=SCHEMA_CORDS)
def test_cord_matches_sdk(
    index: int, field: str, sdk: dict[str, dict], schema_chute: Chute
) -> None:
    expected = sdk["schemas/cords"]["chutes"]["chute"]["cords"][index][field]
    assert ours(schema_chute.cords[index])[field] == expected


def test_chute_and_node_selector_match_sdk(sdk: dict[str, dict], schema_chute: Chute) -> None:
    expected = sdk["schemas/cords"]["chutes"]["chute"]
    assert schema_chute.uid == expected["uid"]
    assert schema_chute.node_selector.dict() == expected["node_selector"]


def test_uids_match_sdk(sdk: dict[str, dict]) -> None:
    probed = sdk["parity/images"]
    loaded = load_fixture("parity/images.py")
    images = dict(loaded.images)
    assert {attr: images[attr].uid for attr in probed["images"]} == {
        attr: info["uid"] for attr, info in probed["images"].items()
    }
    chute = dict(loaded.chutes)["chute"]
    assert chute.uid == probed["chutes"]["chute"]["uid"]
    assert chute.image.uid == probed["chutes"]["chute"]["image_uid"]


def test_chute_uid_is_not_lowercased() -> None:
    chute = Chute(username="Alice", name="My-Chute", image="parachutes/python:3.12")
    assert chute.uid == str(uuid.uuid5(uuid.NAMESPACE_OID, "Alice::chute::My-Chute"))
    assert chute.uid != Chute(username="alice", name="my-chute", image="parachutes/python:3.12").uid


def new_chute(**kwargs) -> Chute:
    return Chute(
        username="alice", name="c", image=Image(username="alice", name="i", tag="1"), **kwargs
    )


def test_cord_options() -> None:
    chute = new_chute()

    @chute.cord(
        path="generate/",
        public_api_path="v1/gen/",
        public_api_method="get",
        method="put",
        stream=True,
        passthrough=True,
        passthrough_port=8000,
        passthrough_path="/v1/completions",
        provision_timeout=30,
        output_content_type="text/event-stream",
        timeout=5,
    )
    async def generate(self, prompt: str) -> str:
        return prompt

    (cord,) = chute.cords
    assert (cord.path, cord.public_api_path, cord.passthrough_path) == (
        "/generate",
        "/v1/gen",
        "/v1/completions",
    )
    assert (cord.method, cord.public_api_method) == ("PUT", "GET")
    assert (cord.stream, cord.passthrough, cord.passthrough_port) == (True, True, 8000)
    assert cord.provision_timeout == 30 and cord.session_kwargs == {"timeout": 5}
    assert cord.output_content_type == "text/event-stream"
    assert cord.definition()["function"] == "generate"
    assert cord.input_type is str


def test_cord_defaults_come_from_the_function() -> None:
    chute = new_chute()

    @chute.cord()
    async def do_it(self, x: int) -> dict:
        return {}

    (cord,) = chute.cords
    assert (cord.path, cord.passthrough_path, cord.public_api_path) == ("/do_it", "/do_it", None)
    assert (cord.method, cord.public_api_method, cord.stream) == ("POST", "POST", False)
    assert cord.output_content_type == "application/json"
    assert cord.input_schema == {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
        "definitions": {},
    }


class Body(BaseModel):
    text: str


class Struct(msgspec.Struct):
    n: int


def test_cord_input_type_for_models() -> None:
    chute = new_chute()

    @chute.cord()
    async def pyd(self, body: Body) -> str:
        return ""

    @chute.cord(input_schema=Struct)
    async def st(self, body: Struct) -> str:
        return ""

    @chute.cord()
    async def nothing(self) -> str:
        return ""

    assert [c.input_type for c in chute.cords] == [Body, Struct, None]
    assert chute.cords[1].input_schema["properties"] == {
        "input_args": {"$ref": "#/definitions/Struct"}
    }


@pytest.mark.parametrize("path", ["/Has Space", "/UPPER", "a//b", "/a/", "/-x", "/a.b", 5])
def test_invalid_cord_paths(path) -> None:
    chute = new_chute()
    if path == "/a/":  # trailing slash is normalised away, as in the SDK

        def handler(self) -> None: ...

        chute.cord(path=path)(handler)
        assert chute.cords[0].path == "/a"
        return
    with pytest.raises(InvalidPath, match=r"^.*test_chute\.py:\d+: invalid cord path .*\n  fix: "):
        chute.cord(path=path)


@pytest.mark.parametrize("option", ["passthrough_path", "public_api_path"])
def test_invalid_other_paths(option: str) -> None:
    with pytest.raises(InvalidPath, match=rf"^.*: invalid cord {option} '/x y'"):
        new_chute().cord(**{option: "/x y"})


def test_duplicate_paths_explicit_and_from_function_names() -> None:
    chute = new_chute()

    @chute.cord(path="/run")
    async def first(self) -> None: ...

    with pytest.raises(
        DuplicatePath, match=r"^.*test_chute\.py:\d+: duplicate cord path '/run' in chute 'c'"
    ):
        chute.cord(path="run")

    with pytest.raises(DuplicatePath, match=r"duplicate cord path '/run'"):

        @chute.cord()
        async def run(self) -> None: ...

    assert [c.path for c in chute.cords] == ["/run"]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"method": "TRACE"}, r"method must be one of GET, POST, PUT, PATCH, DELETE, got 'TRACE'"),
        ({"public_api_method": "PUT"}, r"public_api_method must be one of GET, POST"),
        ({"passthrough_port": 70000}, r"passthrough_port must be an integer from 1 to 65535"),
        ({"input_schema": 5}, r"a cord schema must be a model class or a dict, got int"),
    ],
)
def test_invalid_cord_options(kwargs: dict, pattern: str) -> None:
    with pytest.raises(DefinitionError, match=r"^.*test_chute\.py:\d+: " + pattern):
        new_chute().cord(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 257}, "concurrency"),
        ({"max_instances": 0}, "max_instances"),
        ({"shutdown_after_seconds": 10}, "shutdown_after_seconds"),
        ({"scaling_threshold": 1.5}, "scaling_threshold"),
        ({"standard_template": "nope"}, "standard_template"),
        ({"node_selector": {"gpu_count": 1}}, "node_selector"),
    ],
)
def test_invalid_chute_options(kwargs: dict, field: str) -> None:
    with pytest.raises(DefinitionError) as info:
        new_chute(**kwargs)
    assert info.value.field == f"$.{field}"
    assert re.match(r"^.*test_chute\.py:\d+: ", str(info.value))


def test_chute_settings_and_hooks() -> None:
    chute = new_chute(
        concurrency=8, node_selector=NodeSelector(gpu_count=2), revision="abc", custom=1
    )
    order = []

    @chute.on_startup(priority=90)
    async def late(self) -> None:
        order.append("late")

    @chute.on_startup(priority=10)
    def early(self) -> None:
        order.append("early")

    assert [h.func for h in chute.startup_hooks] == [early, late]
    assert [h.is_async for h in chute.startup_hooks] == [False, True]
    assert (chute.concurrency, chute.revision, chute.extra) == (8, "abc", {"custom": 1})
    with pytest.raises(DefinitionError, match="hook priority must be an integer"):
        chute.on_shutdown(priority="high")


def test_prebuilt_image_reference_is_validated() -> None:
    assert (
        Chute(username="a", name="b", image="vllm/vllm-openai:v0.6.3").image
        == "vllm/vllm-openai:v0.6.3"
    )
    with pytest.raises(DefinitionError, match=r"invalid image reference 'not an image'"):
        Chute(username="a", name="b", image="not an image")
