"""The example monorepo (examples/): it loads offline, shares layers, and its chutes work."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from chutes_build import Image
from chutes_build.workspace._workspace import discover, find_workspace, load_paths
from tests.conftest import free_port

from ._offline import no_network

EXAMPLES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples"
)

CPU_CHUTES = {"typed-echo", "ticker", "csv-report", "upstream-proxy", "lifecycle"}
GPU_CHUTES = {
    "Qwen/Qwen2.5-0.5B-Instruct": "initialize_vllm",
    "Qwen/Qwen2.5-1.5B-Instruct": "initialize_sglang",
    "BAAI/bge-small-en-v1.5": "initialize_vllm_embedding",
    "sd-turbo": "initialize_pipeline",
}


@pytest.fixture
def examples():
    """The example monorepo, loaded with every connection and process start refused."""
    workspace = find_workspace(EXAMPLES)
    with no_network():
        files = load_paths(workspace, discover(workspace))
    assert [str(f.error) for f in files if f.error] == []
    return workspace, files


@pytest.fixture
def chutes(examples):
    _, files = examples
    return {chute.name: (f, chute) for f in files for _, chute in f.chutes}


def test_workspace_config(examples) -> None:
    workspace, _ = examples
    assert workspace.root == os.path.realpath(EXAMPLES)
    assert workspace.config.chutes == ["chutes/**/*.py"]
    assert workspace.config.network == "none"
    assert workspace.config.base_images == {
        "parachutes/python:3.12": "chutes-build/python-base:bookworm"
    }


def test_every_chute_loads_without_network(chutes) -> None:
    assert set(chutes) == CPU_CHUTES | set(GPU_CHUTES)
    for name, hook in GPU_CHUTES.items():
        chute = chutes[name][1]
        assert [h.func.__name__ for h in chute.startup_hooks] == [hook]
        if name == "Qwen/Qwen2.5-1.5B-Instruct":  # kept on a prebuilt reference (issue 6)
            assert isinstance(chute.image, str), "one GPU example keeps a prebuilt image"
        else:  # built locally from the python base (issue 6), run only on a GPU
            assert isinstance(chute.image, Image) and chute.image.base == "parachutes/python:3.12"
        assert chute.node_selector is not None and chute.username == "demo"
    for name in CPU_CHUTES:
        chute = chutes[name][1]
        assert isinstance(chute.image, Image) and chute.username == "demo"
        assert chute.image.base == "parachutes/python:3.12"


def test_cpu_chutes_share_their_first_layers(chutes) -> None:
    images = [chutes[name][1].image for name in sorted(CPU_CHUTES)]
    first = images[0].directives[:3]
    assert all(image.directives[:3] == first for image in images)
    assert len({image.directives for image in images}) == len(images), "each adds its own step"
    assert str(images[0]).splitlines()[:3] == str(images[1]).splitlines()[:3]


def test_cpu_chutes_import_the_shared_helper(chutes) -> None:
    for name in CPU_CHUTES:
        assert "common/images.py" in chutes[name][0].deps, name


def test_cpu_images_build_offline(chutes) -> None:
    """Only steps that need no network: env, mkdir and echo."""
    for name in CPU_CHUTES:
        for line in str(chutes[name][1].image).splitlines()[1:]:
            assert line.startswith(("ENV ", "RUN mkdir -p ", "RUN echo ")), (name, line)


def test_dockerfile_command_for_an_example() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chutes_build.cli",
            "dockerfile",
            "chutes/tools/typed_echo.py:chute",
        ],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "FROM parachutes/python:3.12",
        "ENV PYTHONUNBUFFERED=1",
        "RUN mkdir -p /app/data",
        "RUN echo 'typed echo' > /app/data/banner.txt",
    ]


def _cord(chute, name):
    return next(c for c in chute.cords if c.name == name)


async def test_typed_echo_cords(chutes) -> None:
    loaded, chute = chutes["typed-echo"]
    request = loaded.module.EchoRequest(text="hi there", repeat=2)
    assert await _cord(chute, "echo").func(chute, request) == loaded.module.EchoResponse(
        text="hi there hi there", length=17
    )
    assert _cord(chute, "stats").func(chute, request).words == 2
    assert _cord(chute, "echo").input_type is loaded.module.EchoRequest
    assert _cord(chute, "echo").output_content_type == "application/json"


async def test_ticker_streams(chutes) -> None:
    loaded, chute = chutes["ticker"]
    cord = _cord(chute, "ticks")
    assert cord.stream
    ticks = [t async for t in cord.func(chute, loaded.module.TickRequest(count=3, prefix="t"))]
    assert [(t.index, t.label, t.last) for t in ticks] == [
        (0, "t-0", False),
        (1, "t-1", False),
        (2, "t-2", True),
    ]


async def test_report_is_a_file_response(chutes, tmp_path, monkeypatch) -> None:
    from starlette.responses import FileResponse

    loaded, chute = chutes["csv-report"]
    monkeypatch.setenv("REPORT_DIR", str(tmp_path))
    await chute.startup_hooks[0].func(chute)
    response = await _cord(chute, "report").func(
        chute, loaded.module.ReportRequest(rows=4, title="sq")
    )
    assert isinstance(response, FileResponse) and response.media_type == "text/csv"
    with open(response.path, newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["n", "sq"],
            ["0", "0"],
            ["1", "1"],
            ["2", "4"],
            ["3", "9"],
        ]
    assert _cord(chute, "report").output_content_type == "text/csv"


async def test_lifecycle_hooks_run_in_priority_order(chutes) -> None:
    _, chute = chutes["lifecycle"]
    assert [h.priority for h in chute.startup_hooks] == [10, 50, 90]
    for hook in chute.startup_hooks:
        result = hook.func(chute)
        if hook.is_async:
            await result
    status = await _cord(chute, "status").func(chute)
    assert status.events == ["settings", "cache", "ready"]
    assert [h.func.__name__ for h in chute.shutdown_hooks] == ["flush"]


def test_upstream_server_answers_the_passthrough_paths(chutes) -> None:
    loaded, chute = chutes["upstream-proxy"]
    upper, health = _cord(chute, "upper"), _cord(chute, "health")
    assert (upper.passthrough, upper.passthrough_path, upper.passthrough_port) == (
        True,
        "/v1/upper",
        loaded.module.UPSTREAM_PORT,
    )
    assert (health.method, health.passthrough_path) == ("GET", "/health")
    port = free_port()
    process = loaded.module.start_upstream(port)
    try:
        asyncio.run(loaded.module.wait_listening(process, port))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/upper",
            data=json.dumps({"text": "abc"}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {"text": "ABC"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=10)
