from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from chutes.image.directive.generic_run import RUN

image = (
    Image(username="corpus", name="entry", tag="0.1")
    .run_command("useradd -m worker || true")
    .with_entrypoint(["python", "-m", "worker"])
)
EXTRA = RUN("echo built")

chute = Chute(
    username="corpus",
    name="entry",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
)


@chute.cord(public_api_path="/work")
async def work(self, job: dict) -> dict:
    return job
