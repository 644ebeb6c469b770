"""The oracle's SDK lines (``_model.sdk_line``) are what the real SDK 0.6.9 writes,
and every value of this sample the SDK renders safely renders byte-identically here."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from chutes_build import DefinitionError, Image

from ._model import build, dockerfile_with, parse, sdk_line
from .test_dockerfile_injection import sdk_safe

SAMPLE = [
    ("with_env", "A", "x\nRUN evil"), ("with_env", "PATH", "/opt/python/bin:$PATH"),
    ("with_env", "A", "a b"), ("with_env", "A", 'q"uote'), ("with_env", "A", "${B:-x}"),
    ("with_env", "A", ""), ("with_env", "A", "back\\slash"), ("with_env", "A", "\u2028"),
    ("run_command", "echo hi \\"), ("run_command", "a && \\\n  b"), ("run_command", "cat <<EOF"),
    ("run_command", '["echo", "hi"]'), ("run_command", "echo $HOME # c"),
    ("run_command", "a && \\\n\n  b"), ("run_command", "a \\\n\n"),
    ("run_command", "pip install \\\n  # tools\n  x \\\n\t\n  y"),
    ("set_user", "chutes"), ("set_user", "a\\"), ("set_user", "'root'"),
    ("set_workdir", "/app"), ("set_workdir", "$HOME/x"), ("set_workdir", "/a b"),
    ("with_maintainer", "me <me@x.io>"), ("with_maintainer", "-- x"),
    ("with_entrypoint", ["python", "-m", "app"]), ("with_entrypoint", ["a\nb", '"', "\u00e9"]),
]  # fmt: skip

_SCRIPT = """
import json, sys
from chutes.image import Image
out = []
for method, *args in json.load(sys.stdin):
    try:
        image = getattr(Image(username="u", name="app", tag="1"), method)(*args)
        out.append(str(image).split("\\n", 1)[1])
    except Exception as exc:
        out.append(None)
print(json.dumps(out))
"""


def clean_env() -> dict[str, str]:
    """No execution context: the SDK's ``add`` would otherwise do nothing."""
    return {k: v for k, v in os.environ.items() if k != "CHUTES_EXECUTION_CONTEXT"}


def test_sdk_lines_match_the_real_sdk(sdk_python: str) -> None:
    proc = subprocess.run(
        [sdk_python, "-c", _SCRIPT],
        input=json.dumps(SAMPLE), capture_output=True, text=True, timeout=120, env=clean_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout)
    assert real == [sdk_line(method, *args) for method, *args in SAMPLE]


def test_safe_sample_values_render_byte_identically() -> None:
    safe = [case for case in SAMPLE if sdk_safe(*case)]
    assert len(safe) >= 8, safe  # the sample holds both kinds
    for method, *args in SAMPLE:
        built = build(method, *args)
        if (method, *args) in safe:
            assert not isinstance(built, DefinitionError), built
            assert "\n".join(str(built).split("\n")[1:-1]) == sdk_line(method, *args)


#: Shell text that continues onto empty or comment lines, as public chute files write it.
CONTINUED = {
    "a && \\\n\n  b": "a &&   b",
    "pip install \\\n  # tools\n  x \\\n\t\n  y": "pip install   x   y",
    "apt-get update && \\\n    # the compilers\n    apt-get install -y gcc":
        "apt-get update &&     apt-get install -y gcc",
}  # fmt: skip


def test_issue_13_continued_blank_lines_render_the_sdk_text_buildkit_reads_as_one_run(
    sdk_python: str,
) -> None:
    cases = [("run_command", command) for command in CONTINUED]
    proc = subprocess.run(
        [sdk_python, "-c", _SCRIPT],
        input=json.dumps(cases), capture_output=True, text=True, timeout=120, env=clean_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for (_, command), real in zip(cases, json.loads(proc.stdout), strict=True):
        built = build("run_command", command)
        assert not isinstance(built, DefinitionError), built
        ours = "\n".join(str(built).split("\n")[1:-1])
        assert ours == real == sdk_line("run_command", command)
        parsed = parse(dockerfile_with(real))
        assert [(cmd, values) for cmd, values, _ in parsed] == [
            ("FROM", ("parachutes/python:3.12",)),
            ("RUN", (CONTINUED[command],)),
            ("RUN", ("echo sentinel",)),
        ]


@pytest.mark.docker
def test_issue_13_the_engine_builds_blank_line_continuations_as_one_command(
    docker_engine: str, busybox_image: str, new_tags, tmp_path
) -> None:
    (tag,) = new_tags()
    command = "echo one > /tmp/o && \\\n\n  # the second step\n  echo two >> /tmp/o"
    image = Image(username="u", name="app", tag="1").from_base(busybox_image).run_command(command)
    (tmp_path / "Dockerfile").write_text(str(image), encoding="utf-8")
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    built = subprocess.run(
        [docker_engine, "build", "--network=none", "-q", "-t", tag, str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    ran = subprocess.run(
        [docker_engine, "run", "--rm", "--network=none", "--entrypoint", "cat", tag, "/tmp/o"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ran.stdout == "one\ntwo\n", ran.stderr
