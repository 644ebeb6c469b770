from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = (
    Image(username="corpus", name="pro", tag="0.2")
    .from_base("nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04")
    .with_python("3.11.9")
    .run_command("pip install vllm==0.6.3")
)

chute = Chute(
    username="corpus",
    name="pro",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=96, include=["pro_6000"]),
)


@chute.cord(public_api_path="/info")
async def info(self) -> dict:
    return {"gpu": "pro_6000"}
