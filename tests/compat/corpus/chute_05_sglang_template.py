from chutes.chute import NodeSelector
from chutes.chute.template.sglang import build_sglang_chute

chute = build_sglang_chute(
    username="corpus",
    model_name="deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
    revision="916b56a44061fd5cd7d6a8fb632557ed4f724f60",
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=48),
    engine_args="--context-length 32768 --trust-remote-code",
    concurrency=24,
)
