from chutes.chute import Chute, NodeSelector
from chutes.exception import DuplicatePath, InvalidPath
from chutes.image import Image

image = Image(username="corpus", name="guards", tag="0.1").apt_install("curl")
chute = Chute(
    username="corpus",
    name="guards",
    image=image,
    node_selector=NodeSelector(gpu_count=1),
)


@chute.cord(public_api_path="/one")
async def one(self) -> int:
    return 1


try:

    @chute.cord(path="/one")
    async def again(self) -> int:
        return 2

except (DuplicatePath, InvalidPath):
    REJECTED = True
