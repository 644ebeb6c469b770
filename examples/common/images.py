"""The base every CPU example chute starts from.

Chutes built on ``base_image()`` begin with the same directives, so
chutes-build compiles those layers once and shares them between chutes.
Every step works without network access (the workspace builds with
``network = "none"``).
"""

from chutes_build import Image

__all__ = ["BASE", "USERNAME", "base_image"]

USERNAME = "demo"
BASE = "parachutes/python:3.12"


def base_image(name: str, tag: str = "0.1.0", readme: str = "") -> Image:
    """A small Python image: the shared base plus a data folder."""
    return (
        Image(username=USERNAME, name=name, tag=tag, readme=readme)
        .from_base(BASE)
        .with_env("PYTHONUNBUFFERED", "1")
        .run_command("mkdir -p /app/data")
    )
