from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from fastapi import HTTPException
from loguru import logger
from pydantic import BaseModel

image = Image(username="corpus", name="echo", tag="1.0").apt_install("jq")


class EchoIn(BaseModel):
    text: str
    repeat: int = 1


chute = Chute(
    username="corpus",
    name="echo",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
    concurrency=4,
)


@chute.cord(public_api_path="/echo", public_api_method="POST")
async def echo(self, args: EchoIn) -> str:
    if args.repeat < 0:
        raise HTTPException(status_code=400, detail="repeat must be >= 0")
    logger.info("echo {}", args.text)
    return args.text * args.repeat
