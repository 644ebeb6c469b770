from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from loguru import logger

try:
    image = Image(username="corpus", name="guarded", tag="1").with_env("MODEL", "tiny")
    chute = Chute(
        username="corpus",
        name="guarded",
        image=image,
        node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
    )
except Exception as exc:
    logger.error(f"could not define the chute: {exc}")
    raise


@chute.cord(public_api_path="/ping")
async def ping(self) -> dict:
    return {"ok": True}
