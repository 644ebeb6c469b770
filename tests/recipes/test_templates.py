"""The templates against the reference SDK: signatures, packs, cords and schemas.

Each call below is run by the SDK (in its own interpreter) and by
chutes-build; the dumps must agree.
"""

from __future__ import annotations

import json

import pytest

import chutes_recipes
from chutes_build import Image, NodeSelector
from chutes_recipes import (
    build_diffusion_chute,
    build_embedding_chute,
    build_sglang_chute,
    build_vllm_chute,
)

from ._dump import CORD_FIELDS, pack_json, signature_json

TEMPLATES = {
    "build_vllm_chute": "vllm",
    "build_sglang_chute": "sglang",
    "build_embedding_chute": "embedding",
    "build_diffusion_chute": "diffusion",
}

REV = "0123456789abcdef0123456789abcdef01234567"
#: Template calls, as source text run by the SDK and by chutes-build (``R`` is a revision).
CALLS = [
    "build_vllm_chute('demo', 'Qwen/Qwen2.5-0.5B-Instruct', NodeSelector(gpu_count=1), revision=R)",
    "build_vllm_chute(username='demo', model_name='unsloth/affine-llama', revision=R, "
    "concurrency=8, node_selector=NodeSelector(gpu_count=2, min_vram_gb_per_gpu=48), "
    "engine_args='--max-model-len 4096', tagline='t', readme='r', max_instances=3, "
    "scaling_threshold=0.5, shutdown_after_seconds=600, allow_external_egress=True, tee=True)",
    "build_vllm_chute('demo', 'Qwen/Qwen2.5-0.5B-Instruct', NodeSelector(), revision=R, "
    "image=Image(username='demo', name='vllm', tag='1.0').from_base('parachutes/python:3.12')"
    ".apt_install(['git', 'curl']).with_env('HF_HOME', '/cache')"
    ".run_command('pip install vllm==0.11.0'))",
    "build_sglang_chute('demo', 'Qwen/Qwen2.5-1.5B-Instruct', NodeSelector(gpu_count=1), "
    "revision=R, engine_args='--context-length 4096', concurrency=16)",
    "build_embedding_chute('demo', 'BAAI/bge-small-en-v1.5', NodeSelector(), revision=R)",
    "build_embedding_chute('demo', 'intfloat/multilingual-e5-large', NodeSelector(), revision=R, "
    "pooling_type='CLS', max_embed_len=4096, enable_chunked_processing=False)",
    "build_diffusion_chute('demo', 'sd-turbo', 'stabilityai/sd-turbo', NodeSelector())",
    "build_diffusion_chute(username='demo', name='sdxl', model_name_or_url='stabilityai/sdxl', "
    "revision=R, node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24), "
    "concurrency=2, pipeline_args={'variant': 'fp16'})",
]

SDK_IMPORTS = """
from chutes.chute import NodeSelector
from chutes.image import Image
from chutes.chute.template.vllm import build_vllm_chute
from chutes.chute.template.sglang import build_sglang_chute
from chutes.chute.template.embedding import build_embedding_chute
from chutes.chute.template.diffusion import build_diffusion_chute
"""


@pytest.fixture
def sdk_packs(run_sdk):
    calls = ",\n".join(CALLS)
    code = f"{SDK_IMPORTS}\nR = {REV!r}\npacks = [\n{calls}\n]\n"
    return run_sdk(code + "print(json.dumps([pack_json(p) for p in packs]))")


def ours(call: str) -> dict:
    namespace = {
        "NodeSelector": NodeSelector,
        "Image": Image,
        "build_vllm_chute": build_vllm_chute,
        "build_sglang_chute": build_sglang_chute,
        "build_embedding_chute": build_embedding_chute,
        "build_diffusion_chute": build_diffusion_chute,
        "R": REV,
    }
    return pack_json(eval(call, namespace))


def _signatures(run) -> dict[str, list]:
    code = "import importlib\n" + _SIGNATURE_SOURCE + "out = {}\n"
    for func, module in TEMPLATES.items():
        target = f"importlib.import_module('chutes.chute.template.{module}').{func}"
        code += f"out[{func!r}] = signature_json({target})\n"
    return run(code + "print(json.dumps(out))")


_SIGNATURE_SOURCE = """
def signature_json(func):
    return [[p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
            for p in inspect.signature(func).parameters.values()]
"""


def test_issue_13_signatures_equal_the_newest_sdk(run_sdk_next) -> None:
    sdk = _signatures(run_sdk_next)
    for func in TEMPLATES:
        assert signature_json(getattr(chutes_recipes, func)) == sdk[func], func


def test_signatures_extend_the_reference_sdk(run_sdk) -> None:
    """Every 0.6.9 call still binds: its parameters come first, in order, with its defaults."""
    sdk = _signatures(run_sdk)
    for func in TEMPLATES:
        mine = signature_json(getattr(chutes_recipes, func))
        assert mine[: len(sdk[func])] == sdk[func], func


@pytest.mark.parametrize(
    "index", range(len(CALLS)), ids=[c.split("(")[0] + str(i) for i, c in enumerate(CALLS)]
)
def test_pack_and_chute_settings_equal_the_sdk(sdk_packs, index: int) -> None:
    sdk, mine = sdk_packs[index], ours(CALLS[index])
    for key in sdk:
        if key != "cords":
            assert mine[key] == sdk[key], key


@pytest.mark.parametrize(
    "index", range(len(CALLS)), ids=[c.split("(")[0] + str(i) for i, c in enumerate(CALLS)]
)
def test_cords_equal_the_sdk(sdk_packs, index: int) -> None:
    sdk, mine = sdk_packs[index]["cords"], ours(CALLS[index])["cords"]
    assert [c["function"] for c in mine] == [c["function"] for c in sdk]
    for sdk_cord, my_cord in zip(sdk, mine, strict=True):
        for field in CORD_FIELDS:
            assert my_cord[field] == sdk_cord[field], (sdk_cord["function"], field)


@pytest.mark.parametrize(
    "index", range(len(CALLS)), ids=[c.split("(")[0] + str(i) for i, c in enumerate(CALLS)]
)
def test_issue_13_template_cord_schemas_are_the_sdks(sdk_packs, index: int) -> None:
    """Key for key and in the SDK's key order: compared as JSON text."""
    sdk, mine = sdk_packs[index]["cords"], ours(CALLS[index])["cords"]
    for sdk_cord, my_cord in zip(sdk, mine, strict=True):
        for field in ("input_schema", "minimal_input_schema", "output_schema"):
            expected = json.dumps(sdk_cord[field], indent=1)
            assert json.dumps(my_cord[field], indent=1) == expected, (sdk_cord["function"], field)


#: Calls with the SDK 0.6.10-0.6.11 template arguments, run by the newest SDK and by chutes-build.
NEXT_CALLS = [
    "build_vllm_chute('demo', 'Qwen/Qwen2.5-0.5B-Instruct', NodeSelector(gpu_count=1), "
    "revision=R, name='qwen-small', official_package=True)",
    "build_vllm_chute('demo', 'unsloth/affine-x', NodeSelector(), revision=R, name=None, "
    "official_package=False)",
    "build_sglang_chute('demo', 'Qwen/Qwen2.5-1.5B-Instruct', NodeSelector(), revision=R, "
    "name='qwen-sglang', official_package=True, engine_args='--context-length 4096')",
    "build_embedding_chute('demo', 'BAAI/bge-small-en-v1.5', NodeSelector(), revision=R, "
    "name='bge', official_package=True, pooling_type='MEAN', max_embed_len=8192)",
    "build_embedding_chute(username='demo', model_name='Alibaba-NLP/gte-Qwen2-embedding', "
    "node_selector=NodeSelector(), revision=R, enable_chunked_processing=False, name='gte')",
]


@pytest.fixture
def sdk_next_packs(run_sdk_next):
    calls = ",\n".join(NEXT_CALLS)
    code = f"{SDK_IMPORTS}\nR = {REV!r}\npacks = [\n{calls}\n]\n"
    return run_sdk_next(code + "print(json.dumps([pack_json(p) for p in packs]))")


@pytest.mark.parametrize(
    "index",
    range(len(NEXT_CALLS)),
    ids=[c.split("(")[0] + str(i) for i, c in enumerate(NEXT_CALLS)],
)
def test_issue_13_new_template_arguments_agree_with_the_newest_sdk(
    sdk_next_packs, index: int
) -> None:
    """Chute name and settings, image, hooks and every cord with its schemas, as JSON text."""
    sdk, mine = sdk_next_packs[index], ours(NEXT_CALLS[index])
    assert {k: v for k, v in mine.items() if k != "cords"} == {
        k: v for k, v in sdk.items() if k != "cords"
    }
    assert json.dumps(mine["cords"], indent=1) == json.dumps(sdk["cords"], indent=1)


def test_name_renames_the_chute_not_the_model() -> None:
    pack = build_vllm_chute("demo", "org/model", NodeSelector(), revision=REV, name="custom")
    assert pack.chute.name == "custom"
    schema = pack.chute.cords[0].minimal_input_schema
    model = schema["definitions"]["MinifiedStreamChatCompletion"]["properties"]["model"]
    assert model["default"] == "org/model"


def test_minimal_schemas_default_to_the_model_name() -> None:
    pack = build_vllm_chute("demo", "Qwen/Qwen2.5-0.5B-Instruct", NodeSelector(), revision=REV)
    schema = pack.chute.cords[0].minimal_input_schema
    model = schema["definitions"]["MinifiedStreamChatCompletion"]["properties"]["model"]
    assert model["default"] == "Qwen/Qwen2.5-0.5B-Instruct"


def test_image_constants_match_the_sdk(run_sdk) -> None:
    sdk = run_sdk(
        """
        from chutes.image.standard.vllm import VLLM
        from chutes.image.standard.sglang import SGLANG
        from chutes.image.standard.diffusion import DIFFUSION
        print(json.dumps([VLLM, SGLANG, DIFFUSION]))
        """
    )
    assert [chutes_recipes.VLLM, chutes_recipes.SGLANG, chutes_recipes.DIFFUSION] == sdk


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's ``__all__`` order: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_public_names_are_sorted_and_complete() -> None:
    import chutes_recipes.diffusion
    import chutes_recipes.embedding
    import chutes_recipes.images
    import chutes_recipes.sglang
    import chutes_recipes.vllm

    modules = [
        chutes_recipes,
        chutes_recipes.vllm,
        chutes_recipes.sglang,
        chutes_recipes.embedding,
        chutes_recipes.diffusion,
        chutes_recipes.images,
    ]
    for module in modules:
        assert module.__all__ == sorted(module.__all__, key=_isort_key), module.__name__
        assert all(hasattr(module, name) for name in module.__all__), module.__name__
    for func in TEMPLATES:
        assert func in chutes_recipes.__all__
