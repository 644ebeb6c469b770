"""A text-to-image chute (diffusers), SDK style."""

from chutes.chute import NodeSelector
from chutes.chute.template.diffusion import build_diffusion_chute

chute = build_diffusion_chute(
    username="demo",
    name="sd-turbo",
    readme="Stable Diffusion Turbo",
    model_name_or_url="stabilityai/sd-turbo",
    revision="b261bac6fd2cf515557d5d0707481eafa0485ec2",
    concurrency=2,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)
