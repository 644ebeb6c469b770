"""An SGLang chute through chutes-build's own import path."""

from chutes_build import NodeSelector
from chutes_recipes import SGLANG, build_sglang_chute

chute = build_sglang_chute(
    username="demo",
    readme="Qwen2.5 1.5B Instruct on SGLang",
    model_name="Qwen/Qwen2.5-1.5B-Instruct",
    revision="989aa7980e4cf806f80c7fef2b1adb7bc71aa306",
    image=SGLANG,
    concurrency=8,
    engine_args="--context-length 4096",
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)
