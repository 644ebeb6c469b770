from collections.abc import AsyncGenerator

from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from pydantic import BaseModel

image = Image(username="corpus", name="streamer", tag="1").run_command("pip install orjson")


class Ask(BaseModel):
    question: str
    words: int = 8


chute = Chute(
    username="corpus",
    name="streamer",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
    concurrency=8,
)


@chute.cord(public_api_path="/stream", stream=True)
async def stream(self, ask: Ask) -> AsyncGenerator[str, None]:
    for i in range(ask.words):
        yield f"word{i} "
