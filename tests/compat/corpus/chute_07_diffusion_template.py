from chutes.chute import NodeSelector
from chutes.chute.template.diffusion import build_diffusion_chute

chute = build_diffusion_chute(
    username="corpus",
    name="sdxl-turbo",
    model_name_or_url="stabilityai/sdxl-turbo",
    revision="71153311d3dbb46851df1931d3ca6e939de83304",
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
    tagline="Fast SDXL",
)
