import re

from chutes.chute import Chute, NodeSelector
from chutes.image import Image as ChuteImage
from fastapi import Response
from loguru import logger
from pydantic import BaseModel, Field

OUTPUT_RE = re.compile(r"Outputs:\s*\n(.*?)\n", re.MULTILINE)

workflow_image = (
    ChuteImage(username="corpus", name="workflow", tag="0.3.26", readme="workflow base image")
    .from_base("parachutes/base-python:3.12.9")
    .set_user("root")
    .run_command("apt -y update && apt -y install git unzip libgl1-mesa-glx")
    .set_user("chutes")
    .run_command("pip install --upgrade pip")
    .run_command(
        "mkdir -p models/faces && "
        "cd models/faces && "
        "wget -O faces.zip https://example.com/models/faces.zip && "
        "unzip faces.zip && rm -f faces.zip"
    )
    .run_command("pip install opencv-python 'uvicorn[standard]' 'numpy<2'")
    .add("data/workflow_api.json", "/app/workflow.json")
    .set_workdir("/app")
)


class ImagePayload(BaseModel):
    prompt: str = Field(...)
    seed: int | None = Field(0, title="Seed", description="Seed for the sampler.")
    steps: int | None = Field(30, title="Steps", description="Sampler steps.", ge=5, le=50)
    width: int | None = Field(1024, title="Width", le=2048, ge=200)


chute = Chute(
    username="corpus",
    name="workflow",
    readme="Text to image through a saved workflow",
    image=workflow_image,
    node_selector=NodeSelector(
        gpu_count=1,
        min_vram_gb_per_gpu=40,
        include=["l40s", "h100", "h100_sxm", "h800", "h200", "a6000_ada"],
    ),
    concurrency=2,
)


@chute.cord(public_api_path="/generate", output_content_type="image/jpeg")
async def generate(self, args: ImagePayload) -> Response:
    logger.info(f"generating {args.width}px")
    return Response(content=b"", media_type="image/jpeg")
