from chutes.chute import NodeSelector
from chutes.chute.template.vllm import build_vllm_chute
from chutes.image import Image

image = (
    Image(username="corpus", name="vllm-custom", tag="0.8.1", readme="## vLLM with a template")
    .from_base("parachutes/base-python:3.12.9")
    .run_command("pip install --no-cache wheel packaging qwen-vl-utils[decord]==0.0.8")
    .run_command("pip install --upgrade vllm==0.8.1")
    .add("data/chat_template.jinja", "/app/chat_template.jinja")
)

chute = build_vllm_chute(
    username="corpus",
    readme="A small model with its own chat template",
    model_name="unsloth/gemma-3-1b-it",
    revision="284477f075e7d8bfa2c7e2e0131c3fe4055baa7f",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=48),
    concurrency=8,
    engine_args="--max-num-seqs 8 --chat-template /app/chat_template.jinja",
)
