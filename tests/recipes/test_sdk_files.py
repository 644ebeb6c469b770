"""Chute files written for the SDK load unmodified and agree with the SDK on disk.

Each file below is run by the real SDK (``runpy`` in its interpreter) and
loaded by ``chutes_build.workspace._workspace.load_paths``; their chutes, cords and
Dockerfiles must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from chutes_build import ChutePack
from chutes_build.workspace._workspace import find_workspace, load_paths

from ._dump import CORD_FIELDS, pack_json

REV = "0123456789abcdef0123456789abcdef01234567"

IMAGE = """
image = (
    Image(username="demo", name="my-engine", tag="0.1", readme="engine")
    .from_base("parachutes/python:3.12")
    .apt_install(["git", "curl"])
    .run_command("pip install --no-cache wheel packaging")
    .with_env("ENGINE_IMAGE", {constant})
    .set_workdir("/app")
)
"""

FILES = {
    "vllm_chute.py": (
        "from chutes.chute.template.vllm import build_vllm_chute\n"
        "from chutes.image.standard.vllm import VLLM\n",
        "VLLM",
        f"build_vllm_chute(username='demo', model_name='Qwen/Qwen2.5-0.5B-Instruct', "
        f"revision={REV!r}, node_selector=NodeSelector(gpu_count=1), image=image, concurrency=4)",
    ),
    "sglang_chute.py": (
        "from chutes.chute.template.sglang import build_sglang_chute\n"
        "from chutes.image.standard.sglang import SGLANG\n",
        "SGLANG",
        "build_sglang_chute('demo', 'Qwen/Qwen2.5-1.5B-Instruct', NodeSelector(), image=image, "
        f"revision={REV!r})",
    ),
    "embedding_chute.py": (
        "from chutes.chute.template.embedding import build_embedding_chute\n"
        "from chutes.image.standard.vllm import VLLM\n",
        "VLLM",
        "build_embedding_chute('demo', 'BAAI/bge-small-en-v1.5', NodeSelector(), "
        f"revision={REV!r}, image=image)",
    ),
    "diffusion_chute.py": (
        "from chutes.chute.template.diffusion import build_diffusion_chute\n"
        "from chutes.image.standard.diffusion import DIFFUSION\n",
        "DIFFUSION",
        "build_diffusion_chute('demo', 'sd', 'stabilityai/sd-turbo', NodeSelector(), image=image)",
    ),
}


def _source(name: str) -> str:
    imports, constant, call = FILES[name]
    head = "from chutes.image import Image\nfrom chutes.chute import NodeSelector\n" + imports
    return head + IMAGE.format(constant=constant) + f"\nchute = {call}\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("sdk-files")
    (tmp_path / "pyproject.toml").write_text('[tool.chutes-build]\nchutes = ["*.py"]\n')
    for name in FILES:
        (tmp_path / name).write_text(_source(name))
    return tmp_path


@pytest.fixture
def sdk_dumps(run_sdk, workspace):
    code = f"""
    import runpy
    out = {{}}
    for name in {sorted(FILES)!r}:
        out[name] = pack_json(runpy.run_path(name)["chute"])
    print(json.dumps(out))
    """
    return run_sdk(textwrap.dedent(code), cwd=str(workspace))


@pytest.fixture
def loaded(workspace):
    files = [str(workspace / name) for name in sorted(FILES)]
    results = load_paths(find_workspace(str(workspace)), files)
    assert [str(r.error) for r in results if r.error] == []
    return {os.path.basename(r.path): r for r in results}


@pytest.mark.parametrize("name", sorted(FILES))
def test_sdk_file_loads_unmodified_and_matches_the_sdk(loaded, sdk_dumps, name: str) -> None:
    result = loaded[name]
    assert [attr for attr, _ in result.chutes] == ["chute"]
    pack = result.module.chute
    assert isinstance(pack, ChutePack)
    sdk, mine = sdk_dumps[name], pack_json(pack)
    assert mine["image"] == sdk["image"]  # the Dockerfile text
    assert {k: v for k, v in mine.items() if k != "cords"} == {
        k: v for k, v in sdk.items() if k != "cords"
    }
    for sdk_cord, my_cord in zip(sdk["cords"], mine["cords"], strict=True):
        assert {f: my_cord[f] for f in CORD_FIELDS} == {f: sdk_cord[f] for f in CORD_FIELDS}
        for field in ("input_schema", "minimal_input_schema", "output_schema"):
            assert json.dumps(my_cord[field]) == json.dumps(sdk_cord[field]), field


def test_dockerfile_command_prints_the_sdk_text(workspace, sdk_dumps) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chutes_build.cli", "dockerfile", "vllm_chute.py:chute"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip("\n") == sdk_dumps["vllm_chute.py"]["image"]


NEXT_FILE = f"""
from chutes.chute import NodeSelector
from chutes.chute.template.embedding import build_embedding_chute

chute = build_embedding_chute(
    username="demo",
    model_name="BAAI/bge-m3",
    revision={REV!r},
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
    name="bge-m3-official",
    official_package=True,
    pooling_type="CLS",
    max_embed_len=8192,
)
"""


def test_issue_13_a_file_for_the_newest_sdk_loads_unmodified(run_sdk_next, tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.chutes-build]\nchutes = ["*.py"]\n')
    (tmp_path / "next_chute.py").write_text(NEXT_FILE)
    code = 'import runpy\nprint(json.dumps(pack_json(runpy.run_path("next_chute.py")["chute"])))'
    sdk = run_sdk_next(code, cwd=str(tmp_path))
    path = str(tmp_path / "next_chute.py")
    loaded = load_paths(find_workspace(path), [path])[0]
    assert loaded.error is None, str(loaded.error)
    mine = pack_json(loaded.module.chute)
    assert mine["name"] == "bge-m3-official"
    assert json.dumps(mine, indent=1) == json.dumps(sdk, indent=1)
