"""Every ``$ref`` in a chute's OpenAPI document resolves inside the document.

Cord schemas are the SDK's, so a model's sub-models sit under the model's own
``$defs`` and refs read ``#/$defs/...``: the document must lift each definition into
``components`` and point the refs there, for the templates' schemas above all.
"""

from __future__ import annotations

import json

import msgspec
import pytest

from chutes_build import Chute, NodeSelector
from chutes_recipes.diffusion import build_diffusion_chute
from chutes_recipes.embedding import build_embedding_chute
from chutes_recipes.sglang import build_sglang_chute
from chutes_recipes.vllm import build_vllm_chute
from chutes_runtime._openapi import openapi

REV = "a" * 40


class Inner(msgspec.Struct):
    value: int


class Outer(msgspec.Struct):
    inner: Inner
    items: list[Inner] = []


def _user_chute() -> Chute:
    chute = Chute(username="demo", name="nested", image="demo/nested:1")

    @chute.cord(public_api_path="/nest")
    async def nest(self, body: Outer) -> Outer:
        return body

    return chute


CHUTES = {
    "vllm": lambda: build_vllm_chute("demo", "org/model", NodeSelector(), revision=REV).chute,
    "sglang": lambda: build_sglang_chute("demo", "org/model", NodeSelector(), revision=REV).chute,
    "embedding": lambda: (
        build_embedding_chute("demo", "org/model", NodeSelector(), revision=REV).chute
    ),
    "diffusion": lambda: (
        build_diffusion_chute("demo", "sd", "org/sd", NodeSelector(), revision=REV).chute
    ),
    "user-structs": _user_chute,
}


def _refs(node, found: list[str]) -> list[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize("name", sorted(CHUTES))
@pytest.mark.parametrize("dev", [True, False], ids=["dev", "prod"])
def test_every_ref_resolves_in_the_document(name: str, dev: bool) -> None:
    doc = json.loads(openapi(CHUTES[name](), dev))
    refs = _refs(doc, [])
    unresolved = []
    for ref in refs:
        try:
            _resolve(doc, ref)
        except (KeyError, TypeError):
            unresolved.append(ref)
    assert not unresolved, unresolved
    assert "$defs" not in json.dumps(doc["paths"]), "definitions left inside a path"


def test_the_templates_do_use_refs() -> None:
    """The check above is not empty: the vLLM and user documents carry refs."""
    for name in ("vllm", "user-structs"):
        assert _refs(json.loads(openapi(CHUTES[name](), True)), [])
