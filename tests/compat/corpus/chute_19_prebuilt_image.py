from chutes.chute import Chute, NodeSelector

chute = Chute(
    username="corpus",
    name="prebuilt",
    image="chutes/whisper:0.3.0",
    node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16),
    concurrency=2,
)


@chute.cord(public_api_path="/whisper")
async def whisper(self, audio_b64: str) -> dict:
    return {"length": len(audio_b64)}
