from chutes.chute import NodeSelector
from chutes.chute.template.vllm import build_vllm_chute
from chutes.image.standard.vllm import VLLM

chute = build_vllm_chute(
    username="corpus",
    model_name="Qwen/Qwen2.5-72B-Instruct",
    image=VLLM,
    revision="d3d951150c1e5848237cd6a7ad11df4836aee842",
    node_selector=NodeSelector(gpu_count=8, min_vram_gb_per_gpu=80, include=["h800", "h100"]),
    engine_args=dict(tensor_parallel_size=8, max_model_len=32768, enable_prefix_caching=True),
    max_instances=3,
    scaling_threshold=0.5,
    shutdown_after_seconds=3600,
)
