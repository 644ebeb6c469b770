from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = (
    Image(username="corpus", name="env-heavy", tag="3")
    .with_env("PATH", "/opt/python/bin:$PATH")
    .with_env("LD_LIBRARY_PATH", "/usr/local/cuda/lib64:${LD_LIBRARY_PATH}")
    .with_env("HF_HUB_ENABLE_HF_TRANSFER", "1")
    .with_env("TRANSFORMERS_CACHE", "/cache")
    .with_maintainer("ops@example.com")
)

chute = Chute(
    username="corpus",
    name="env-heavy",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=40),
)


@chute.cord(public_api_path="/env")
async def env(self, name: str) -> str:
    return name
