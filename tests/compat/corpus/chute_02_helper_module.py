from chutes.chute import Chute, NodeSelector
from helper_image import PIP, base_image
from helper_models import Completion, Prompt

image = base_image("helper-chute").run_command(f"{PIP} transformers==4.44.0 accelerate")

chute = Chute(
    username="corpus",
    name="helper-chute",
    tagline="Uses helpers beside the file",
    readme="# Helper chute\nShares its image with others.",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)


@chute.on_startup()
async def load(self):
    self.ready = True


@chute.cord(public_api_path="/generate")
async def generate(self, prompt: Prompt) -> Completion:
    return Completion(text=prompt.prompt[::-1], tokens=len(prompt.prompt))
