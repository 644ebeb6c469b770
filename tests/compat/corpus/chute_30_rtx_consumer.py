from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = (
    Image(username="corpus", name="consumer", tag="0.1")
    .run_command("pip install diffusers==0.30.0 transformers accelerate")
    .run_command("pip install xformers --index-url https://download.pytorch.org/whl/cu121")
)

chute = Chute(
    username="corpus",
    name="consumer",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24, include=["4090", "5090"]),
)


@chute.cord(public_api_path="/txt2img", output_content_type="image/png")
async def txt2img(self, prompt: str, steps: int = 4) -> bytes:
    return prompt.encode()
