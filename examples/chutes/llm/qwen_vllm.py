"""A vLLM chute written for the chutes SDK, loaded unmodified by chutes-build.

It uses the template's prebuilt engine image, so there is nothing to build.
"""

from chutes.chute import NodeSelector
from chutes.chute.template.vllm import build_vllm_chute

chute = build_vllm_chute(
    username="demo",
    readme="Qwen2.5 0.5B Instruct on vLLM",
    model_name="Qwen/Qwen2.5-0.5B-Instruct",
    revision="7ae557604adf67be50417f59c2c2f167def9a775",
    concurrency=8,
    engine_args="--max-model-len 4096",
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)
