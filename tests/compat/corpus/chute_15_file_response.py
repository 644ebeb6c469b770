import os
import uuid

from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from fastapi import Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

image = Image(username="corpus", name="tts", tag="0.4").apt_install(["espeak-ng", "ffmpeg"])


class Speech(BaseModel):
    text: str = Field(..., max_length=2000)
    voice: str = "default"
    speed: float = Field(1.0, ge=0.5, le=2.0)


chute = Chute(
    username="corpus",
    name="tts",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
)


@chute.cord(public_api_path="/speak", output_content_type="audio/wav")
async def speak(self, args: Speech) -> FileResponse:
    path = os.path.join("/tmp", f"{uuid.uuid4()}.wav")
    return FileResponse(path, media_type="audio/wav")


@chute.cord(public_api_path="/voices", public_api_method="GET")
async def voices(self) -> Response:
    return Response(content="default", media_type="text/plain")
