from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = (
    Image(username="corpus", name="with-files", tag="0.5")
    .set_workdir("/app")
    .add("data/config.json", "/app/config.json")
    .add("data", "/app/data")
    .with_env("CONFIG", "/app/config.json")
)

chute = Chute(
    username="corpus",
    name="with-files",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
)


@chute.cord(public_api_path="/config")
async def config(self) -> dict:
    return {"path": "/app/config.json"}
