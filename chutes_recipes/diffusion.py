"""The diffusion template: ``build_diffusion_chute`` (diffusers SD / SDXL), as in the SDK.

Defining the chute is pure: no network, no model download. The pipeline is
loaded by the ``initialize_pipeline`` startup hook inside the image
(:mod:`chutes_recipes._pipeline`); ``generate`` returns a JPEG.
"""

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from chutes_build import ChutePack, Image, NodeSelector

from . import _checks
from ._template import template_chute
from .images import DIFFUSION

__all__ = [
    "DIFFUSION",
    "DiffusionChute",
    "GenerationInput",
    "MinifiedGenerationInput",
    "build_diffusion_chute",
]


class GenerationInput(msgspec.Struct, kw_only=True):
    prompt: str
    negative_prompt: str = ""
    height: Annotated[int, msgspec.Meta(ge=128, le=2048)] = 1024
    width: Annotated[int, msgspec.Meta(ge=128, le=2048)] = 1024
    num_inference_steps: Annotated[int, msgspec.Meta(ge=1, le=50)] = 25
    guidance_scale: Annotated[float, msgspec.Meta(ge=1.0, le=20.0)] = 7.5
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)] | None = None


class MinifiedGenerationInput(msgspec.Struct, kw_only=True):
    prompt: str = "a beautiful mountain landscape"


class DiffusionChute(ChutePack):
    """What ``build_diffusion_chute`` returns: the chute and its ``generate`` cord."""

    generate: Callable


def build_diffusion_chute(
    username: str,
    name: str,
    model_name_or_url: str,
    node_selector: NodeSelector,
    tagline: str = "",
    readme: str = "",
    concurrency: int = 3,
    version: str | None = None,
    revision: str | None = None,
    image: str | Image | None = DIFFUSION,
    pipeline_args: dict | None = {},  # noqa: B006 - the SDK's default; never mutated here
    max_instances: int = 1,
    scaling_threshold: float = 0.75,
    shutdown_after_seconds: int = 300,
    tee: bool = False,
) -> DiffusionChute:
    """A chute generating images with a Hugging Face or civitai.com SD/SDXL model."""
    model = model_name_or_url
    if not model.lower().startswith("https://civitai.com/"):
        _checks.model_name("build_diffusion_chute", model, "model_name_or_url")
    args: dict[str, Any] = dict(pipeline_args or {})
    chute = template_chute("diffusion", locals(), name=name)

    @chute.on_startup()
    async def initialize_pipeline(self):
        """Download the model if necessary and load the pipeline onto the GPU."""
        from ._pipeline import load_pipeline

        await load_pipeline(self, model, version, revision, dict(args))

    @chute.cord(
        public_api_path="/generate",
        method="POST",
        input_schema=GenerationInput,
        minimal_input_schema=MinifiedGenerationInput,
        output_content_type="image/jpeg",
        pass_chute=True,
    )
    async def generate(self, params: GenerationInput) -> Any:
        """Generate an image (a JPEG response; its output schema is ``{}``, as in the SDK)."""
        from ._pipeline import generate_jpeg

        return generate_jpeg(self, params)

    return DiffusionChute(chute=chute, generate=generate)
