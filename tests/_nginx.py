"""A real nginx WebDAV server as a Bazel-style HTTP cache, for the shared-cache tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO, free_port, require

SCRIPT = os.path.join(REPO, "scripts", "nginx-cache")


@contextmanager
def running_nginx_cache(data: Path) -> Iterator[tuple[str, Path]]:
    """``(url, data folder)`` of an nginx cache serving ``data``, stopped on exit."""
    has_nginx = bool(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"))
    require(has_nginx or bool(shutil.which("apt-get")), "nginx is not installed")
    result = subprocess.run(
        [SCRIPT, "start", str(free_port()), str(data)], capture_output=True, text=True, timeout=300
    )
    require(result.returncode == 0, f"scripts/nginx-cache failed: {result.stderr[-800:]}")
    try:
        yield result.stdout.strip().splitlines()[-1], Path(data)
    finally:
        subprocess.run([SCRIPT, "stop", str(data)], timeout=60, check=False)
