"""An embedding chute (vLLM pooling server), SDK style."""

from chutes.chute import NodeSelector
from chutes.chute.template.embedding import build_embedding_chute

chute = build_embedding_chute(
    username="demo",
    readme="BGE small (English) embeddings",
    model_name="BAAI/bge-small-en-v1.5",
    revision="5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
    concurrency=16,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
)
