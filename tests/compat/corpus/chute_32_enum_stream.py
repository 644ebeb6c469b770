import os
from enum import Enum
from io import BytesIO

from chutes.chute import Chute, NodeSelector
from chutes.image import Image
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

os.environ.setdefault("NO_PROXY", "localhost,127.0.0.1")

image = (
    Image(username="corpus", name="voices", tag="0.0.3", readme="## Speech with several voices")
    .from_base("parachutes/base-python:3.12.7")
    .set_user("root")
    .run_command("apt update")
    .apt_install(["espeak-ng", "git-lfs"])
    .set_user("chutes")
    .run_command("pip install phonemizer scipy soundfile")
    .run_command("git lfs install")
)


class Voice(str, Enum):  # noqa: UP042 - the form public chute files use
    DEFAULT = "af"
    BELLA = "af_bella"
    GEORGE = "bm_george"


class SpeakArgs(BaseModel):
    text: str
    voice: Voice = Field(default=Voice.DEFAULT, description="Which voice reads the text")


chute = Chute(
    username="corpus",
    name="voices",
    tagline="Text to speech, streamed",
    readme="Reads text aloud in one of several voices.",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=24),
)


@chute.on_startup()
async def initialize(self):
    import wave  # imported where the model runs, as real chutes do

    self.wave = wave


@chute.cord(public_api_path="/speak", output_content_type="audio/wav")
async def speak(self, args: SpeakArgs) -> StreamingResponse:
    buffer = BytesIO(args.text.encode())
    return StreamingResponse(buffer, media_type="audio/wav")
