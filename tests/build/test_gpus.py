"""Template chutes on the local target: ``--gpus all`` when a GPU is enabled, else
``needs-gpu``. No GPU is needed: the docker argv and the plan are checked, not run."""

from __future__ import annotations

from typing import Any

from chutes_build.engine import _gpus, _local_target
from chutes_build.engine._docker import run_argv
from chutes_build.engine._local_target import (
    LocalOptions,
    container_gpus,
    has_gpu,
    nvidia_devices,
    plan_local,
)
from chutes_build.engine._orchestrate import BuildContext, Work
from chutes_build.graph import DeployNode, ImageNode, LayerNode, NodeKind

ROOT = "/tmp/ws-gpus"
DEVICE = ["GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000000)"]


def _argv(**options: Any) -> list[str]:
    return run_argv("img:1", name="n", command=["serve"], **options)


def test_run_container_passes_gpus_before_the_image() -> None:
    argv = _argv(gpus="all")
    assert argv[argv.index("--gpus") + 1] == "all"
    assert argv.index("--gpus") < argv.index("img:1")
    assert argv[-2:] == ["img:1", "serve"]


def test_run_container_without_gpus_has_no_gpus_flag() -> None:
    argv = _argv(labels={"a": "b"})
    assert "--gpus" not in argv
    assert argv[:5] == ["run", "--detach", "--name", "n", "--network=host"]


def test_has_gpu_needs_the_setting_and_a_listed_device() -> None:
    on = {"CHUTES_BUILD_LOCAL_GPU": "1"}
    assert has_gpu(on, lambda: DEVICE)
    assert not has_gpu(on, lambda: [])
    assert not has_gpu({}, lambda: DEVICE)
    assert not has_gpu({"CHUTES_BUILD_LOCAL_GPU": "0"}, lambda: DEVICE)


def test_nvidia_devices_keeps_only_gpu_lines(monkeypatch) -> None:
    class Proc:
        returncode, stdout = 0, DEVICE[0] + "\n  MIG 1g.10gb Device 0: (UUID: MIG-x)\n"

    monkeypatch.setattr(_gpus.subprocess, "run", lambda *a, **k: Proc())
    assert nvidia_devices() == DEVICE

    def missing(*args, **kwargs):
        raise FileNotFoundError("nvidia-smi")

    monkeypatch.setattr(_gpus.subprocess, "run", missing)
    assert nvidia_devices() == []


def _deploy(template: str | None, chute: str) -> DeployNode:
    return DeployNode(key=f"deploy-{chute}", label=chute, text=f"deploy {chute}", chute=chute,
                      slot=chute, image="img-key", image_ref="t/img:1", file="chutes/a.py",
                      attr="chute", username="t", uid="u", code={}, code_digest="",
                      definition={"standard_template": template})  # fmt: skip


def test_container_gpus_only_for_templates_on_a_gpu_host() -> None:
    assert container_gpus(_deploy("vllm", "v"), gpu=True) == "all"
    assert container_gpus(_deploy("vllm", "v"), gpu=False) is None
    assert container_gpus(_deploy(None, "p"), gpu=True) is None


class _Graph:
    root = ROOT

    def __init__(self) -> None:
        self.nodes = {"deploy-v": _deploy("vllm", "v"), "deploy-p": _deploy(None, "p"),
                      "img-key": ImageNode(key="img-key", label="t/img:1", text="image",
                                           username="t", name="img", tag="1", uid="u",
                                           readme="", top="layer-key", base="base-key",
                                           slot="image:t/img:1", inputs={}),
                      "layer-key": LayerNode(key="layer-key", label="RUN x", text="RUN x",
                                             parent="base-key", line="RUN x", instruction="RUN",
                                             directive={}, inputs={})}  # fmt: skip

    def node(self, key: str) -> NodeKind:
        return self.nodes[key]


class _Store:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], Any] = {}

    def load_struct(self, kind, name, type_):
        return self.saved.get((kind, name))

    def save_struct(self, kind, name, value) -> None:
        self.saved[(kind, name)] = value

    def has_action(self, key: str) -> bool:
        return False


async def _plan(gpu: bool) -> tuple[Work, dict[str, dict[str, Any]]]:
    graph = _Graph()
    ctx, work = BuildContext(graph, _Store(), None), Work(graph)
    opts = LocalOptions(cache_dir="/nonexistent", gpu=gpu, port_base=31000)
    rows = await plan_local(ctx, opts, work, ["deploy-v", "deploy-p"], {}, containers=[])
    return work, {row["chute"]: row for row in rows}


async def test_without_a_gpu_template_chutes_stay_needs_gpu() -> None:
    work, rows = await _plan(gpu=False)
    assert rows["v"]["state"] == "needs-gpu" and rows["v"]["url"] is None
    assert "deploy-v" not in work.tasks
    assert rows["p"]["state"] is None and "deploy-p" in work.tasks


async def test_with_a_gpu_template_chutes_start_with_gpus_all(monkeypatch) -> None:
    work, rows = await _plan(gpu=True)
    assert rows["v"]["state"] is None and "deploy-v" in work.tasks
    started: dict[str, Any] = {}

    async def run_container(docker, image, **options):
        started[options["name"]] = options
        return "id"

    async def wait_http(url, timeout, alive=None, expect=None, transport=None):
        return None

    monkeypatch.setattr(_local_target, "run_container", run_container)
    monkeypatch.setattr(_local_target, "wait_http", wait_http)
    ctx = BuildContext(_Graph(), _Store(), None)
    opts = LocalOptions(cache_dir="/nonexistent", gpu=True)
    for name, template in (("v", "vllm"), ("p", None)):
        attrs = _deploy(template, name)
        chute = _local_target._Chute(f"deploy-{name}", attrs, f"c-{name}", 1, rows[name])
        await _local_target._start(ctx, opts, chute, "runtime-key")
    assert started["c-v"]["gpus"] == "all"
    assert started["c-p"]["gpus"] is None
