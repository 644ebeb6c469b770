"""Shared image pieces for the corpus chutes that import a helper beside them."""

from chutes.image import Image


def base_image(name: str, tag: str = "0.1") -> Image:
    return (
        Image(username="corpus", name=name, tag=tag, readme="## shared base")
        .from_base("parachutes/python:3.12")
        .set_user("root")
        .apt_install(["git", "curl"])
        .set_user("chutes")
    )


PIP = "pip install --no-cache-dir"
