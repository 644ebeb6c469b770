"""An embedding chute (vLLM pooling server), SDK style."""

from chutes.chute import NodeSelector
from chutes.chute.template.embedding import build_embedding_chute
from chutes.image import Image

# A small image built locally (FROM parachutes/python:3.12, replaced by the local
# python base): the template's engine is not installed, so the chute is built here
# and reported as needing a GPU to run.
image = (
    Image(username="demo", name="bge-embeddings", tag="0.1.0", readme="embedding engine (GPU)")
    .from_base("parachutes/python:3.12")
    .with_env("PYTHONUNBUFFERED", "1")
    .run_command("mkdir -p /app/models")
    .run_command("echo 'embedding' > /app/ENGINE")
)

chute = build_embedding_chute(
    username="demo",
    image=image,
    readme="BGE small (English) embeddings",
    model_name="BAAI/bge-small-en-v1.5",
    revision="5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
    concurrency=16,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
)
