"""Issue 16: ``bench/bench_plan.py`` prints every ratio against the SDK in one run, for each
shape (with and without ``add()``) and size, and the warm cost per chute side by side."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO


def test_issue_16_bench_plan_prints_each_ratio_and_the_side_by_side_table(tmp_path, sdk_python):
    # the fixture made (or found) the SDK's venv, so the bench's own call only reads its path
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "bench", "bench_plan.py"),
         "--chutes", "12,24", "--add-files", "0,3", "--families", "3", "--repeat", "1"],
        env={**os.environ, "PYTHONPATH": REPO}, cwd=tmp_path, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for name in ("cold / sdk", "sdk / warm", "peak memory, cold / sdk"):
        assert len(re.findall(rf"^{re.escape(name)} += \d+\.\d+x", out, re.M)) == 4, out
    table = out[out.index("chutes  add()") :].splitlines()[1:]
    shapes = [tuple(line.split()[:2]) for line in table]
    assert shapes == [("12", "-"), ("24", "-"), ("12", "3"), ("24", "3")]
    assert all(re.search(r"\d+ us \( *\d+ us\)$", line) for line in table)
    # a warm plan after a build has nothing dirty, and imports nothing
    assert len(re.findall(r"^graph: \d+ nodes, 0 dirty after a build", out, re.M)) == 4
