from chutes.chute import Chute, NodeSelector
from chutes.image import Image

image = (
    Image(username="corpus", name="long-shell", tag="2024.10")
    .from_base("parachutes/base-python:3.12.7")
    .set_user("root")
    .run_command(
        "apt-get update && apt-get install -y --no-install-recommends \\\n"
        "    ffmpeg \\\n"
        "    libsndfile1 \\\n"
        "    build-essential && \\\n"
        "    rm -rf /var/lib/apt/lists/*"
    )
    .set_user("chutes")
    .run_command("pip install --upgrade pip && pip install torch==2.4.0 torchaudio==2.4.0")
    .with_env("HF_HOME", "/home/chutes/.cache/huggingface")
)

chute = Chute(
    username="corpus",
    name="long-shell",
    image=image,
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
)


@chute.cord(public_api_path="/transcribe")
async def transcribe(self, url: str, language: str = "en") -> dict:
    return {"url": url, "language": language}
