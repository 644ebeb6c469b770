"""A vLLM chute written for the chutes SDK, loaded unmodified by chutes-build.

It builds a small local image (see `image`) instead of the template's prebuilt one.
"""

from chutes.chute import NodeSelector
from chutes.chute.template.vllm import build_vllm_chute
from chutes.image import Image

# A small image built locally (FROM parachutes/python:3.12, replaced by the local
# python base): the template's engine is not installed, so the chute is built here
# and reported as needing a GPU to run.
image = (
    Image(username="demo", name="qwen-vllm", tag="0.1.0", readme="vllm engine (GPU)")
    .from_base("parachutes/python:3.12")
    .with_env("PYTHONUNBUFFERED", "1")
    .run_command("mkdir -p /app/models")
    .run_command("echo 'vllm' > /app/ENGINE")
)

chute = build_vllm_chute(
    username="demo",
    image=image,
    readme="Qwen2.5 0.5B Instruct on vLLM",
    model_name="Qwen/Qwen2.5-0.5B-Instruct",
    revision="7ae557604adf67be50417f59c2c2f167def9a775",
    concurrency=8,
    engine_args="--max-model-len 4096",
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)
