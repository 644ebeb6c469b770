from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="corpus", name="typo", tag="1").apt_install(["git"])

chute = Chute(
    username="corpus",
    name="typo",
    image=image,
    node_selector=NodeSelector(gpu_count=2, min_vram_gpu_per_gpu=48),
)


@chute.cord(public_api_path="/run")
async def run(self, n: int = 1) -> list:
    return list(range(n))
