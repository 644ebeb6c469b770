from chutes.chute import NodeSelector
from chutes.chute.template.vllm import build_vllm_chute

chute = build_vllm_chute(
    username="corpus",
    model_name="meta-llama/Llama-3.1-405B-Instruct-FP8",
    revision="ad5e3fa3e7fa8e6d4bd0c2f9b1c0c5e4b0d2a1f3",
    node_selector=NodeSelector(gpu_count=8, min_vram_gb_per_gpu=140),
    engine_args=dict(tensor_parallel_size=8, max_model_len=16384, kv_cache_dtype="fp8"),
    concurrency=32,
    readme="405B on eight 140 GB GPUs",
)
