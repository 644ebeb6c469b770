"""BuildKit itself builds a sample of escaped hostile values and gets them back verbatim.

The property tests use BuildKit's parser; this checks the later step (quote
and escape removal, ``$`` expansion) on the real engine, for one image.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from chutes_build import Image

pytestmark = pytest.mark.docker

ENV = {
    "A": "a b",
    "B": 'q"uote\\back\\',
    "C": "it's",
    "D": "tab\there",
    "E": "\u2028x\u00a0",
    "G": "",
    "H": "#not a comment",
    "I": "  padded  ",
}


def sample(base: str) -> Image:
    image = Image(username="u", name="app", tag="1").from_base(base)
    for key, value in ENV.items():
        image = image.with_env(key, value)
    return (
        image.with_env("F", "$A-${A}")
        .with_maintainer('me "x" <m@x.io>')
        .set_workdir("/w o")
        .run_command("printf '%s' \"$B\" > /tmp/b && \\\n  echo sentinel > /tmp/s")
        .with_entrypoint(["a\nb", '"', "\u00e9"])
        .set_user("1000:1000")
    )


def test_buildkit_reads_escaped_values_verbatim(
    docker_engine: str, busybox_image: str, new_tags, tmp_path
) -> None:
    (tag,) = new_tags()
    (tmp_path / "Dockerfile").write_text(str(sample(busybox_image)), encoding="utf-8")
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    built = subprocess.run(
        [docker_engine, "build", "--network=none", "-q", "-t", tag, str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    inspect = subprocess.run(
        [docker_engine, "image", "inspect", tag], capture_output=True, text=True, timeout=60
    )
    config = json.loads(inspect.stdout)[0]["Config"]
    got = dict(item.split("=", 1) for item in config["Env"])
    assert {k: got[k] for k in ENV} == ENV
    assert got["F"] == "a b-a b"
    assert config["WorkingDir"] == "/w o" and config["User"] == "1000:1000"
    assert config["Entrypoint"] == ["a\nb", '"', "\u00e9"]
    assert json.loads(inspect.stdout)[0]["Author"] == 'me "x" <m@x.io>'
    cat = ["--entrypoint", "cat", tag, "/tmp/b", "/tmp/s"]
    ran = subprocess.run(
        [docker_engine, "run", "--rm", "--network=none", *cat],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ran.stdout == ENV["B"] + "sentinel\n", ran.stderr
