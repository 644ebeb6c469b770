"""Generated models: a Struct's schema is pydantic's for the same fields (issue 13, item 4).

Seeded random model modules are written twice, as pydantic models and as
msgspec Structs with the same fields (``Field`` written as ``Meta``). The
SDK's python (its pydantic) gives the reference ``model_json_schema()``,
chutes-build the Structs'; both are compared as JSON text, for both ref
templates the SDK uses.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass

import msgspec
import pytest

from chutes_build.definitions._struct_schema import struct_json_schema

from .conftest import clean_env

SEEDS = range(60)
TEMPLATES = ("#/$defs/{model}", "#/definitions/{model}")

HEADER = """
import datetime
from enum import Enum
from typing import Annotated, Any, Dict, List, Literal, Optional, Set, Tuple, Union
"""
ENUMS = '''
class Color(Enum):
    """A color."""

    red = "red"
    blue = "blue"


class Level(int, Enum):
    low = 1
    high = 2
'''


@dataclass
class Kind:
    """One annotation in both spellings, its msgspec union class and a default (or None)."""

    pydantic: str
    struct: str
    kind: str
    default: str | None = None


def _leaf(rng: random.Random, models: list[str]) -> Kind:
    choices = [
        Kind("str", "str", "str", '"x"'),
        Kind("int", "int", "num", "3"),
        Kind("float", "float", "num", "0.5"),
        Kind("bool", "bool", "bool", "True"),
        Kind("Any", "Any", "any"),
        Kind("datetime.datetime", "datetime.datetime", "str"),
        Kind("Color", "Color", "str", "Color.blue"),
        Kind("Level", "Level", "num", "Level.high"),
        Kind('Literal["b", "a"]', 'Literal["b", "a"]', "str", '"a"'),
        Kind("Literal[7]", "Literal[7]", "num", "7"),
        Kind(
            "Annotated[int, Field(ge=1, le=9)]",
            "Annotated[int, Meta(ge=1, le=9)]",
            "num",
            "4",
        ),
        Kind(
            'Annotated[str, Field(min_length=1, pattern="^a")]',
            'Annotated[str, Meta(min_length=1, pattern="^a")]',
            "str",
            '"ab"',
        ),
    ]
    choices += [Kind(name, name, "object") for name in models]
    return rng.choice(choices)


def _type(rng: random.Random, models: list[str], depth: int = 0) -> Kind:
    if depth >= 2 or rng.random() < 0.4:
        return _leaf(rng, models)
    inner = _type(rng, models, depth + 1)
    shape = rng.choice(["optional", "pipe", "list", "dict", "set", "tuple", "vartuple", "union"])
    if shape in ("optional", "pipe") and inner.kind not in ("any",):
        text = f"Optional[{inner.pydantic}]", f"Optional[{inner.struct}]"
        if shape == "pipe":
            text = f"{inner.pydantic} | None", f"{inner.struct} | None"
        return Kind(*text, inner.kind, "None")
    if shape == "list":
        return Kind(f"List[{inner.pydantic}]", f"List[{inner.struct}]", "array")
    if shape == "dict":
        return Kind(f"Dict[str, {inner.pydantic}]", f"Dict[str, {inner.struct}]", "object")
    if shape == "set":
        return Kind("Set[str]", "Set[str]", "array")
    if shape == "tuple":
        return Kind(f"Tuple[{inner.pydantic}, int]", f"Tuple[{inner.struct}, int]", "array")
    if shape == "vartuple":
        return Kind(f"Tuple[{inner.pydantic}, ...]", f"Tuple[{inner.struct}, ...]", "array")
    other = _leaf(rng, models)
    if other.kind == inner.kind or {other.kind, inner.kind} & {"any", "union"}:
        return inner  # msgspec takes at most one member of each kind
    if "Meta(" in other.struct + inner.struct:
        return inner  # msgspec 0.23 crashes collecting such a union's decoder (msgspec#717)
    # One member order per pair: typing's cache hands out the first spelling of an equal union.
    first, second = sorted((inner, other), key=lambda k: k.struct)
    return Kind(
        f"Union[{first.pydantic}, {second.pydantic}]",
        f"Union[{first.struct}, {second.struct}]",
        "union",
    )


def _field(rng: random.Random, name: str, kind: Kind) -> tuple[str, str]:
    described = rng.random() < 0.25
    roll = rng.random()
    if kind.default is not None and roll < 0.5:
        if described:
            return (
                f"    {name}: {kind.pydantic} = Field({kind.default}, description='about {name}')",
                f"    {name}: Annotated[{kind.struct}, Meta(description='about {name}')]"
                f" = {kind.default}",
            )
        return (
            f"    {name}: {kind.pydantic} = {kind.default}",
            f"    {name}: {kind.struct} = {kind.default}",
        )
    if kind.kind == "array" and roll < 0.7 and "Tuple" not in kind.pydantic:
        factory = "set" if kind.pydantic.startswith("Set") else "list"
        return (
            f"    {name}: {kind.pydantic} = Field(default_factory={factory})",
            f"    {name}: {kind.struct} = field(default_factory={factory})",
        )
    return f"    {name}: {kind.pydantic}", f"    {name}: {kind.struct}"


def modules(seed: int) -> tuple[str, str, list[str]]:
    """(pydantic source, struct source, model names) of one seeded module."""
    rng = random.Random(seed)
    pyd = [HEADER, "from pydantic import BaseModel, Field", ENUMS]
    msg = [HEADER, "import msgspec", "from msgspec import Meta, field", ENUMS]
    models: list[str] = []
    for index in range(rng.randint(2, 5)):
        name = f"Model{index}"
        doc = [f'    """Model number {index}."""', ""] if rng.random() < 0.3 else []
        pyd += [f"\nclass {name}(BaseModel):", *doc]
        msg += [f"\nclass {name}(msgspec.Struct, kw_only=True):", *doc]
        for position in range(rng.randint(1, 6)):
            line = _field(rng, f"field_{position}_{rng.choice('abc')}", _type(rng, models))
            pyd.append(line[0])
            msg.append(line[1])
        models.append(name)
    return "\n".join(pyd) + "\n", "\n".join(msg) + "\n", models


SDK_SIDE = """
import json, sys
out = {}
for seed, source, names in json.loads(sys.stdin.read()):
    namespace = {}
    exec(compile(source, f"generated_{seed}", "exec"), namespace)
    out[seed] = {name: {template: namespace[name].model_json_schema(ref_template=template)
                        for template in TEMPLATES} for name in names}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def generated() -> dict[int, tuple[str, str, list[str]]]:
    return {seed: modules(seed) for seed in SEEDS}


@pytest.fixture(scope="module")
def pydantic_schemas(sdk_python: str, generated) -> dict[str, dict]:
    jobs = [[seed, pyd, names] for seed, (pyd, _, names) in generated.items()]
    script = f"TEMPLATES = {TEMPLATES!r}\n" + textwrap.dedent(SDK_SIDE)
    proc = subprocess.run(
        [sdk_python, "-c", script],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("seed", SEEDS)
def test_issue_13_struct_schemas_equal_pydantics_for_the_same_fields(
    seed: int, generated, pydantic_schemas
) -> None:
    _, source, names = generated[seed]
    module = types.ModuleType(f"generated_structs_{seed}")
    sys.modules[module.__name__] = module  # msgspec resolves annotations in the class's module
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    _compare(seed, source, names, module, pydantic_schemas)


def _compare(seed: int, source: str, names: list[str], module, pydantic_schemas) -> None:
    for name in names:
        struct = getattr(module, name)
        msgspec.json.Decoder(struct)  # a type msgspec accepts, as a cord input must be
        for template in TEMPLATES:
            expected = json.dumps(pydantic_schemas[str(seed)][name][template], indent=1)
            mine = json.dumps(struct_json_schema(struct, template), indent=1)
            assert mine == expected, f"seed {seed}, {name}:\n{source}"
