from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="corpus", name="blank-lines", tag="0.3").run_command(
    "pip install --no-cache-dir \\\n    numpy \\\n\n    scipy \\\n    # plotting\n    matplotlib"
)

chute = Chute(
    username="corpus",
    name="blank-lines",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
)


@chute.cord(public_api_path="/mean")
async def mean(self, values: list) -> float:
    return sum(values) / max(len(values), 1)
