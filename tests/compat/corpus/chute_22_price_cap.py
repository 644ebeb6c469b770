from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="corpus", name="budget", tag="0.1").run_command(
    "pip install onnxruntime-gpu"
)

chute = Chute(
    username="corpus",
    name="budget",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24, max_hourly_price_per_gpu=0.5),
    max_instances=5,
)


@chute.cord(public_api_path="/classify")
async def classify(self, text: str) -> dict:
    return {"label": "positive" if "good" in text else "negative"}
