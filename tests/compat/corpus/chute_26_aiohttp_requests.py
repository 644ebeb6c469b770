import aiohttp
import backoff
import requests
from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from loguru import logger

image = (
    Image(username="corpus", name="fetcher", tag="0.2")
    .run_command("pip install aiohttp requests backoff")
    .set_workdir("/home/chutes")
)

chute = Chute(
    username="corpus",
    name="fetcher",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
    allow_external_egress=True,
)

TIMEOUT = aiohttp.ClientTimeout(total=30)
SESSION_CLASS = requests.Session


@backoff.on_exception(backoff.expo, aiohttp.ClientError, max_tries=3)
async def _fetch(url: str) -> int:
    logger.debug(url)
    return len(url)


@chute.cord(public_api_path="/fetch")
async def fetch(self, url: str) -> int:
    return await _fetch(url)
