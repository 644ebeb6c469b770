from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="corpus", name="trainer", tag="0.1").run_command("pip install trl==0.11.0")

chute = Chute(
    username="corpus",
    name="trainer",
    image=image,
    node_selector=NodeSelector(gpu_count=4, min_vram_gb_per_gpu=80, include=["h100", "h200"]),
)


@chute.job(timeout=3600, upload=True)
async def finetune(self, **job_data):
    return {"status": "done"}
