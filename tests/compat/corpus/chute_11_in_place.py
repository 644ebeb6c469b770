from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = Image(username="corpus", name="in-place", tag="0.1")
image.from_base("parachutes/python:3.12")
image.apt_install(["ffmpeg"])
image.run_command("pip install pillow==10.4.0")
image.with_env("PYTHONUNBUFFERED", "1")
image.set_workdir("/app")

chute = Chute(
    username="corpus",
    name="in-place",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
)


@chute.cord(public_api_path="/size")
async def size(self, width: int, height: int) -> int:
    return width * height
