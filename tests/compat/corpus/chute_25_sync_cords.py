import base64

import pybase64
from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="corpus", name="codec", tag="0.9").run_command("pip install pybase64")

chute = Chute(
    username="corpus",
    name="codec",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
    concurrency=16,
)


@chute.cord(public_api_path="/encode")
def encode(self, text: str) -> str:
    return pybase64.b64encode(text.encode()).decode()


@chute.cord(public_api_path="/decode")
def decode(self, data: str) -> str:
    return base64.b64decode(data).decode()
