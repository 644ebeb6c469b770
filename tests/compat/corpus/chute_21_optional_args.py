from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from pydantic import BaseModel, Field

image = Image(username="corpus", name="search", tag="0.1").apt_install("libgomp1")


class Query(BaseModel):
    query: str
    top_k: int = Field(10, ge=1, le=100)
    filters: dict[str, str] | None = None
    fields: list[str] = []


class Hit(BaseModel):
    id: str
    score: float


class Hits(BaseModel):
    hits: list[Hit]


chute = Chute(
    username="corpus",
    name="search",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16, exclude=["3090", "a4000"]),
)


@chute.cord(public_api_path="/search")
async def search(self, query: Query) -> Hits:
    return Hits(hits=[])
