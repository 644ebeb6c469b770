"""A text-to-image chute (diffusers), SDK style."""

from chutes.chute import NodeSelector
from chutes.chute.template.diffusion import build_diffusion_chute
from chutes.image import Image

# A small image built locally (FROM parachutes/python:3.12, replaced by the local
# python base): the template's engine is not installed, so the chute is built here
# and reported as needing a GPU to run.
image = (
    Image(username="demo", name="sd-turbo", tag="0.1.0", readme="diffusion engine (GPU)")
    .from_base("parachutes/python:3.12")
    .with_env("PYTHONUNBUFFERED", "1")
    .run_command("mkdir -p /app/models")
    .run_command("echo 'diffusion' > /app/ENGINE")
)

chute = build_diffusion_chute(
    username="demo",
    image=image,
    name="sd-turbo",
    readme="Stable Diffusion Turbo",
    model_name_or_url="stabilityai/sd-turbo",
    revision="b261bac6fd2cf515557d5d0707481eafa0485ec2",
    concurrency=2,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)
