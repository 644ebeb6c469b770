"""Definition-time checks and purity: no network, no process, no download while defining."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess

import pytest

import chutes_recipes._engine as engine
from chutes_build import DefinitionError, NodeSelector
from chutes_recipes import (
    build_diffusion_chute,
    build_embedding_chute,
    build_sglang_chute,
    build_vllm_chute,
)
from chutes_recipes._engine import engine_env, sglang_command, vllm_command

from ._offline import no_network

REV = "0123456789abcdef0123456789abcdef01234567"
LLM_TEMPLATES = [build_vllm_chute, build_sglang_chute, build_embedding_chute]


@pytest.fixture
def offline():
    """Any connection attempt or process start fails the test."""
    with no_network():
        yield


def test_the_offline_guard_works(offline) -> None:
    with pytest.raises(AssertionError, match="network or process use"):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(AssertionError, match="network or process use"):
        socket.socket().connect(("127.0.0.1", 9))
    with pytest.raises(AssertionError, match="network or process use"):
        subprocess.Popen(["true"])


@pytest.mark.parametrize("template", LLM_TEMPLATES, ids=lambda t: t.__name__)
def test_missing_revision_is_a_definition_error_without_a_lookup(offline, template) -> None:
    with pytest.raises(DefinitionError) as info:
        template("demo", "Qwen/Qwen2.5-0.5B-Instruct", NodeSelector())
    text = str(info.value)
    assert re.match(
        rf"^.*test_validation\.py:\d+: {template.__name__}\(\) needs revision= to lock "
        r"Qwen/Qwen2\.5-0\.5B-Instruct to one Hugging Face commit",
        text,
    ), text
    assert re.search(
        r"\n  fix: pass revision='<40-hex commit sha>'; .*git ls-remote "
        r"https://huggingface\.co/Qwen/Qwen2\.5-0\.5B-Instruct refs/heads/main",
        text,
    )
    assert info.value.field == "$.revision"
    assert info.value.file == __file__


@pytest.mark.parametrize("template", LLM_TEMPLATES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("args", ["--revision abc", "--max-model-len 10 --revision=abc"])
def test_revision_in_engine_args_is_refused(template, args: str) -> None:
    with pytest.raises(
        DefinitionError, match=r"^.*: Revision is now a top-level argument to build_\w+_chute!"
    ):
        template("demo", "org/model", NodeSelector(), revision=REV, engine_args=args)


def test_tokenizer_revision_flag_is_not_mistaken_for_revision() -> None:
    pack = build_vllm_chute(
        "demo", "org/model", NodeSelector(), revision=REV, engine_args="--tokenizer-revision x"
    )
    assert pack.chute.revision == REV


@pytest.mark.parametrize(
    ("template", "args", "pattern"),
    [
        (build_vllm_chute, "--served-model-name x", r"may not set --served-model-name"),
        (build_vllm_chute, "--api-key k", r"may not set --api-key"),
        (build_sglang_chute, "--api-key k", r"may not set --api-key"),
        (
            build_vllm_chute,
            "--tp 2 --tensor-parallel-size 2",
            r"sets the tensor-parallel size twice",
        ),
        (build_vllm_chute, ["--x"], r"engine_args must be one string"),
    ],
)
def test_engine_flags_the_template_owns_are_refused(template, args, pattern: str) -> None:
    with pytest.raises(DefinitionError, match=pattern):
        template("demo", "org/model", NodeSelector(), revision=REV, engine_args=args)


@pytest.mark.parametrize("revision", [123, "has space"])
def test_revision_must_be_a_sha_like_string(revision) -> None:
    with pytest.raises(DefinitionError, match=r"revision must be a commit sha"):
        build_vllm_chute("demo", "org/model", NodeSelector(), revision=revision)


def test_definitions_are_pure(offline) -> None:
    packs = [
        build_vllm_chute("demo", "org/model", NodeSelector(), revision=REV),
        build_sglang_chute("demo", "org/model", NodeSelector(), revision=REV),
        build_embedding_chute("demo", "BAAI/bge-small-en-v1.5", NodeSelector(), revision=REV),
        build_diffusion_chute("demo", "sd", "https://civitai.com/models/123/x", NodeSelector()),
    ]
    hooks = [[h.func.__name__ for h in p.chute.startup_hooks] for p in packs]
    assert hooks == [
        ["initialize_vllm"],
        ["initialize_sglang"],
        ["initialize_vllm_embedding"],
        ["initialize_pipeline"],
    ]
    assert all(not hasattr(p.chute, "_vllm_process") for p in packs)


def test_diffusion_keeps_the_callers_pipeline_args() -> None:
    args = {"variant": "fp16"}
    build_diffusion_chute("demo", "sd", "org/sd", NodeSelector(), revision=REV, pipeline_args=args)
    assert args == {"variant": "fp16"}


def test_vllm_command_adds_the_sdk_flags() -> None:
    argv = vllm_command("org/m", "org/m", REV, "KEY", 2, "--max-model-len 8192", python="py")
    text = " ".join(argv)
    assert argv[:3] == ["py", "-m", "vllm.entrypoints.openai.api_server"]
    assert (
        f"--model org/m --served-model-name org/m --revision {REV} --api-key KEY --port 10101"
        in text
    )
    for flag in (
        "--tensor-parallel-size 2",
        "--enable-prompt-tokens-details",
        "--disable-custom-all-reduce",
        "--no-enable-log-requests",
        "--no-enable-log-outputs",
        "--no-enable-log-deltas",
        "--max-model-len 8192",
    ):
        assert flag in text
    assert "--enable-return-hidden-states" not in text
    assert "--enable-return-hidden-states" in " ".join(
        vllm_command("o/affine-x", "o/affine-x", REV, "K", 1, None)
    )


def test_vllm_command_keeps_user_choices() -> None:
    text = " ".join(
        vllm_command("o/m", "o/m", REV, "K", 4, "--tensor-parallel-size 2 --enable-log-requests")
    )
    assert "--tensor-parallel-size 4" not in text and "--tensor-parallel-size 2" in text
    assert "--no-enable-log-requests" not in text


def test_embedding_command_passes_the_pooler_config() -> None:
    config = {"pooling_type": "CLS", "enable_chunked_processing": True, "max_embed_len": 3072000}
    argv = vllm_command("BAAI/bge", "BAAI/bge", REV, "K", 1, None, pooler_config=config)
    index = argv.index("--pooler-config")
    assert (
        argv[index + 1]
        == '{"pooling_type": "CLS", "enable_chunked_processing": true, "max_embed_len": 3072000}'
    )
    assert "--enable-prompt-tokens-details" not in argv


def test_sglang_command_adds_the_sdk_flags() -> None:
    argv = sglang_command("o/m", REV, "KEY", 2, None, python="py")
    text = " ".join(argv)
    assert argv[:3] == ["py", "-m", "sglang.launch_server"]
    for flag in (
        "--model-path o/m",
        "--tp 2",
        f"--revision {REV}",
        "--enable-cache-report",
        "--gc-threshold 50000 100 100",
        "--log-requests-level 0",
        "--api-key KEY",
    ):
        assert flag in text
    assert "--tp 2" not in " ".join(sglang_command("o/m", REV, "K", 2, "--tp=4"))


def test_issue_13_new_template_arguments_define_offline(offline) -> None:
    new = {"revision": REV, "official_package": True}
    packs = [
        build_vllm_chute("demo", "org/m", NodeSelector(), name="a", **new),
        build_sglang_chute("demo", "org/m", NodeSelector(), name="b", **new),
        build_embedding_chute(
            "demo", "org/m", NodeSelector(), name="c", pooling_type="CLS", max_embed_len=4096,
            enable_chunked_processing=True, **new,
        ),
    ]  # fmt: skip
    assert [p.chute.name for p in packs] == ["a", "b", "c"]


def test_issue_13_official_packages_start_the_engine_without_the_chute_env() -> None:
    assert engine_env("org/m", REV, official_package=False) == {
        "SGL_MODEL_NAME": "org/m",
        "SGL_REVISION": REV,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    assert engine_env("org/m", REV, official_package=True) == {}


def test_issue_13_official_sglang_packages_return_no_hidden_states() -> None:
    flag = "--enable-return-hidden-states"
    assert flag in sglang_command("o/m", REV, "K", 1, None)
    assert flag not in sglang_command("o/m", REV, "K", 1, None, official_package=True)
    assert flag in sglang_command("o/m", REV, "K", 1, flag, official_package=True)


def _started(pack, monkeypatch) -> dict:
    """Run the pack's startup hook with the GPU-only steps (download, CUDA, engine) recorded."""
    seen: dict = {}

    async def download(model, revision):
        return "/models/x"

    async def launch(chute, label, argv, api_key, env, warm_model):
        seen.update(argv=argv, env=env)
        return engine.EngineLaunch(label, None, api_key, engine.ENGINE_PORT)

    monkeypatch.setattr(engine, "download_model", download)
    monkeypatch.setattr(engine, "gpu_info", lambda: (1, "NVIDIA L4"))
    monkeypatch.setattr(engine, "launch", launch)
    monkeypatch.setattr(engine, "set_default_cache_dirs", lambda path: None)
    asyncio.run(pack.chute.startup_hooks[0].func(pack.chute))
    return seen


@pytest.mark.parametrize("official", [False, True])
@pytest.mark.parametrize("template", LLM_TEMPLATES, ids=lambda t: t.__name__)
def test_issue_13_startup_hooks_pass_name_and_official_package_on(
    template, official: bool, monkeypatch
) -> None:
    pack = template(
        "demo", "org/m", NodeSelector(), revision=REV, name="mine", official_package=official
    )
    seen = _started(pack, monkeypatch)
    assert ("SGL_MODEL_NAME" in seen["env"]) is not official
    assert ("HF_HUB_OFFLINE" in seen["env"]) is not official
    text = " ".join(seen["argv"])
    if template is build_sglang_chute:
        assert ("--enable-return-hidden-states" in text) is not official
    else:
        assert "--model org/m --served-model-name mine " in text


@pytest.mark.parametrize(
    ("kwargs", "config"),
    [
        ({}, {"pooling_type": "CLS", "enable_chunked_processing": True, "max_embed_len": 3072000}),
        (
            {"pooling_type": "MEAN", "max_embed_len": 8192},
            {"pooling_type": "MEAN", "enable_chunked_processing": True, "max_embed_len": 8192},
        ),
        ({"enable_chunked_processing": False}, {"pooling_type": "CLS"}),
    ],
)
def test_embedding_arguments_reach_the_engine(kwargs: dict, config: dict, monkeypatch) -> None:
    pack = build_embedding_chute(
        "demo", "BAAI/bge-small-en-v1.5", NodeSelector(), revision=REV, **kwargs
    )
    seen = _started(pack, monkeypatch)
    argv = seen["argv"]
    assert json.loads(argv[argv.index("--pooler-config") + 1]) == config
    chunked = seen["env"].get("VLLM_ENABLE_CHUNKED_PROCESSING")
    assert chunked == ("true" if config.get("enable_chunked_processing") else None)


def test_issue_13_engine_args_as_a_dict_become_flags_with_a_warning() -> None:
    """Real chute files pass a dict (older SDK releases took one); SDK 0.6.9 accepts it at
    definition time and fails when the engine starts. We pass the flags it spells."""
    from chutes_build import ChutesBuildWarning
    from chutes_recipes import _checks

    args = dict(max_model_len=8192, enforce_eager=True, trust_remote_code=False)
    with pytest.warns(ChutesBuildWarning, match=r"engine_args is a dict; it is passed to the "):
        text = _checks.engine_args("build_vllm_chute", args)
    assert text == "--max-model-len 8192 --enforce-eager"
    with pytest.warns(ChutesBuildWarning):
        pack = build_vllm_chute("demo", "org/model", NodeSelector(), revision=REV, engine_args=args)
    assert pack.chute.name == "org/model"
    with pytest.raises(DefinitionError, match=r"^.*: Revision is now a top-level argument"):
        with pytest.warns(ChutesBuildWarning):
            _checks.engine_args("build_vllm_chute", {"revision": "abc"})
