from chutes.chute import Chute, NodeSelector
from chutes.chute.cord import Cord
from chutes.image import Image

image = Image(username="corpus", name="cord-import", tag="1").apt_install("curl")
chute = Chute(
    username="corpus",
    name="cord-import",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
)


@chute.cord(public_api_path="/hello")
async def hello(self, name: str) -> str:
    return f"hello {name}"


CORDS = [c for c in chute.cords if isinstance(c, Cord)]
