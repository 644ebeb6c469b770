"""The diffusion template's runtime: fetch the model, load the pipeline, render a JPEG.

Imported only by the template's startup hook and cord, inside the image
(torch, diffusers and huggingface_hub are there). Follows the SDK: a
Hugging Face repository loads as SDXL, falling back to SD; a civitai.com
URL is downloaded as one safetensors file and loaded with ``from_single_file``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import urllib.parse
import urllib.request
import uuid
from typing import Any

__all__ = ["civitai_download_url", "generate_jpeg", "load_pipeline"]

_CIVITAI_DOWNLOAD = "https://civitai.com/api/download/models/{version}?type=Model&format=SafeTensor"


def civitai_download_url(url: str, version: str | None) -> tuple[str, str | None]:
    """``(model id, download URL)`` of a civitai.com model page; the URL is ``None``
    when the latest version must first be looked up through the API."""
    match = re.search(r"^(.+)?/models/([0-9]+)/?.*", urllib.parse.urlparse(url).path)
    if not match:
        raise ValueError(f"invalid civitai.com URL: {url}")
    model_id = match.group(2)
    if version:
        return model_id, _CIVITAI_DOWNLOAD.format(version=version)
    if match.group(1) and match.group(1).lower().endswith("download"):
        return model_id, _CIVITAI_DOWNLOAD.format(version=model_id)
    return model_id, None


def _fetch_civitai(url: str, version: str | None) -> str:
    home = os.getenv("CIVITAI_HOME", os.path.expanduser("~/.cache/civitai"))
    os.makedirs(home, exist_ok=True)
    model_id, download = civitai_download_url(url, version)
    if download is None:
        with urllib.request.urlopen(f"https://civitai.com/api/v1/models/{model_id}") as response:
            latest = json.loads(response.read())["modelVersions"][0]["id"]
        download = _CIVITAI_DOWNLOAD.format(version=latest)
    path = os.path.join(home, f"{model_id}.safetensors")
    if not os.path.exists(path):
        partial = f"{path}.{uuid.uuid4().hex}.part"
        with urllib.request.urlopen(download) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        os.replace(partial, path)
    return path


def _single_file(path: str) -> Any:
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    for cls in (StableDiffusionXLPipeline, StableDiffusionPipeline):
        try:
            return cls.from_single_file(path, torch_dtype=torch.float16, use_safetensors=True).to(
                "cuda"
            )
        except Exception:  # noqa: BLE001 - try the other architecture
            last = cls
    raise RuntimeError(f"{path} loads neither as SDXL nor as SD ({last.__name__} failed last)")


def _pretrained(model: str, revision: str | None, args: dict[str, Any]) -> Any:
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
    from huggingface_hub import snapshot_download

    if revision:
        args["revision"] = revision
    snapshot_download(repo_id=model, **({"revision": revision} if revision else {}))
    try:
        return StableDiffusionXLPipeline.from_pretrained(
            model, torch_dtype=torch.float16, **args
        ).to("cuda")
    except Exception:  # noqa: BLE001 - the SDK falls back to SD the same way
        return StableDiffusionPipeline.from_pretrained(model, torch_dtype=torch.float16, **args).to(
            "cuda"
        )


async def load_pipeline(
    chute: Any, model: str, version: str | None, revision: str | None, args: dict
) -> None:
    """The template's ``initialize_pipeline``: sets ``chute.torch`` and ``chute.pipeline``."""
    import torch

    chute.torch = torch
    torch.cuda.empty_cache()
    torch.cuda.init()
    torch.cuda.set_device(0)
    os.makedirs(os.getenv("HF_HOME", os.path.expanduser("~/.cache/huggingface")), exist_ok=True)
    if model.lower().startswith("https://civitai.com/"):
        path = await asyncio.to_thread(_fetch_civitai, model, version)
        chute.pipeline = await asyncio.to_thread(_single_file, path)
    else:
        chute.pipeline = await asyncio.to_thread(_pretrained, model, revision, args)


def generate_jpeg(chute: Any, params: Any) -> Any:
    """Run the pipeline once and return the image as a JPEG attachment."""
    from starlette.responses import Response

    torch = chute.torch
    generator = None
    if params.seed is not None:
        generator = torch.Generator(device="cuda").manual_seed(params.seed)
    with torch.inference_mode():
        result = chute.pipeline(
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            height=params.height,
            width=params.width,
            num_inference_steps=params.num_inference_steps,
            num_images=1,
            guidance_scale=params.guidance_scale,
            generator=generator,
        )
    buffer = io.BytesIO()
    result.images[0].save(buffer, format="JPEG", quality=85)
    return Response(
        content=buffer.getvalue(),
        media_type="image/jpeg",
        headers={"Content-Disposition": f'attachment; filename="{uuid.uuid4()}.jpg"'},
    )
