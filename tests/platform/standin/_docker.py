"""An optional build hook that runs a real ``docker build`` for uploaded images.

Use ``StandInState(build_mode=docker_build_hook())``. It unpacks the uploaded
context like the platform's forge (refusing members that would land outside the
folder), writes the uploaded Dockerfile next to it and streams the build output
into the image's log. The BuildKit layer proper belongs to chutes-build's builders.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import zipfile
from collections.abc import Callable

from ._state import ImageRow, StandInState


def safe_extract(data: bytes, folder: str) -> None:
    root = os.path.realpath(folder)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            target = os.path.realpath(os.path.join(root, member))
            if os.path.commonpath([root, target]) != root:
                raise ValueError(f"UnsafeExtraction: {member}")
        archive.extractall(root)


def docker_build_hook(docker: str = "/usr/bin/docker") -> Callable[[StandInState, ImageRow], None]:
    def build(state: StandInState, row: ImageRow) -> None:
        with state.lock:
            row.status = "building"
        with tempfile.TemporaryDirectory() as folder:
            try:
                safe_extract(row.context_zip, folder)
            except (ValueError, zipfile.BadZipFile) as exc:
                state.emit_log(row.image_id, str(exc), "stderr")
                state.finish_build(row.image_id, f"error: {exc}")
                return
            with open(os.path.join(folder, "Dockerfile"), "w") as handle:
                handle.write(row.dockerfile)
            tag = f"standin/{row.name}:{row.tag}".lower()
            process = subprocess.Popen(
                [docker, "build", "--network=none", "--progress=plain", "-t", tag, "."],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "DOCKER_BUILDKIT": "1"},
            )
            for line in process.stdout:
                state.emit_log(row.image_id, line.rstrip("\n"))
            code = process.wait()
        state.finish_build(
            row.image_id,
            "built and pushed" if code == 0 else f"error: docker build exited with {code}",
        )

    return build
