from chutes.chute import Chute, NodeSelector
from chutes.image import Image

shared = Image(username="corpus", name="multi", tag="1").apt_install(["git"])
small = NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16)

first = Chute(username="corpus", name="multi-a", image=shared, node_selector=small)
second = Chute(username="corpus", name="multi-b", image=shared, node_selector=small)


@first.cord(public_api_path="/a")
async def a(self, x: int) -> int:
    return x + 1


@second.cord(public_api_path="/b")
async def b(self, x: int) -> int:
    return x * 2
