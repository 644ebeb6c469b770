from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = (
    Image(username="corpus", name="proxy", tag="0.1")
    .run_command("pip install llama-cpp-python[server]==0.3.1")
    .with_env("PORT", "8080")
)

chute = Chute(
    username="corpus",
    name="proxy",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)


@chute.cord(
    passthrough_path="/v1/completions",
    passthrough_port=8080,
    public_api_path="/v1/completions",
    method="POST",
    passthrough=True,
)
async def completions(self, data):
    return data


@chute.cord(passthrough_path="/v1/models", passthrough=True, public_api_method="GET", method="GET")
async def models(self):
    return {}
