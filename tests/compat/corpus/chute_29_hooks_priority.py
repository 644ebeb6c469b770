from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from huggingface_hub import snapshot_download

image = Image(username="corpus", name="hooks", tag="0.1").run_command(
    "pip install huggingface_hub[hf_transfer]==0.25.2"
)

chute = Chute(
    username="corpus",
    name="hooks",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24, include=["l40s", "a6000_ada"]),
    shutdown_after_seconds=900,
)


@chute.on_startup(priority=10)
async def download(self):
    self.path = snapshot_download


@chute.on_startup(priority=90)
async def warm(self):
    self.warm = True


@chute.cord(public_api_path="/ready")
async def ready(self) -> bool:
    return True
