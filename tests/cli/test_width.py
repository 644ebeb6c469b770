"""Every table and the live build view at 80 columns: no line wider, no name or path cut
in the middle of a word, digests shortened deliberately (issue 15, item 5)."""

from __future__ import annotations

import re
import types

import pytest
from rich.console import Console

from chutes_build.cli._table import Col, FitTable, fold_at_separators
from chutes_build.engine import make_progress
from tests.cli.conftest import _env
from tests.conftest import run_cli

CHUTE = """\
from chutes_build import Chute, Image

image = Image(username="t", name="{image}", tag="0.1.0").run_command("echo {name}")
chute = Chute(username="t", name="{name}", image=image)

@chute.cord(public_api_path="/completion_stream")
async def completion_stream(self, text: str) -> str:
    return text
"""

FILES = {
    "chutes/tools/typed_echo.py": CHUTE.format(name="typed-echo", image="typed-echo"),
    "chutes/tools/upstream_proxy.py": CHUTE.format(name="upstream-proxy", image="upstream-proxy"),
    "chutes/llm/qwen_sglang.py": CHUTE.format(
        name="Qwen/Qwen2.5-1.5B-Instruct", image="chutes-sglang-nightly-2025111800"
    ),
}


def _parts(text: str, width: int) -> list[str]:
    offsets = fold_at_separators(text, width)
    return [text[a:b] for a, b in zip([0, *offsets], [*offsets, len(text)], strict=True)]


def _narrow(result) -> list[str]:
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, result.stdout
    return lines


def test_issue_15_values_fold_after_separators_never_inside_a_word() -> None:
    path = "chutes/tools/typed_echo.py:chute"
    assert _parts(path, 20) == ["chutes/tools/", "typed_echo.py:chute"]
    assert _parts(path, 14) == ["chutes/tools/", "typed_echo.py:", "chute"]
    assert _parts("Qwen/Qwen2.5-0.5B-Instruct", 16) == ["Qwen/Qwen2.5-", "0.5B-Instruct"]
    assert _parts("abcdefghij", 4) == ["abcd", "efgh", "ij"]  # one piece wider: cut


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_issue_15_a_fit_table_never_exceeds_its_width(width: int) -> None:
    table = FitTable([Col("name"), Col("url", fold=False), Col("image", drop=1), Col("path")])
    table.add_row("Qwen/Qwen2.5-0.5B-Instruct", "http://127.0.0.1:18007",
                  "chutes-build/runtime:1d734b428a023207595d1283ec2c2f31",
                  "chutes/llm/qwen_vllm.py:chute")  # fmt: skip
    console = Console(width=width, record=True)
    console.print(table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    assert "http://127.0.0.1:18007" in text  # never folded
    assert ("1d734b428a02" in text) == (width >= 140)  # dropped first when narrow


def test_issue_15_ls_at_80_columns(workspace) -> None:
    root = workspace(extra=FILES)
    lines = _narrow(run_cli(["ls"], cwd=root, env=_env(), width=80))
    text = "\n".join(lines)
    for whole in ("typed-echo", "upstream-proxy", "Qwen/Qwen2.5-", "typed_echo.py:",
                  "/completion_stream", "chutes/tools/"):  # fmt: skip
        assert whole in text, whole
    assert not re.search(r"typed_echo\.p\s*$", text, re.M)  # the issue's cut
    assert "3 chutes in 3 files, 0 with errors" in text


def test_issue_15_plan_why_and_cache_at_80_columns(workspace) -> None:
    root = workspace(extra=FILES)
    plan = "\n".join(_narrow(run_cli(["plan"], cwd=root, env=_env(), width=80)))
    assert re.search(r"^deploy\s+typed-echo\s+[0-9a-f]{12}\s+never built\s*$", plan, re.M), plan
    why = _narrow(run_cli(["why", "typed-echo"], cwd=root, env=_env(), width=80))
    code = next(line for line in why if line.startswith("code:"))
    assert re.search(r"\sadded\s+-\s+[0-9a-f]{12}\s*$", code), code  # a 12-hex digest
    assert "code:chutes/tools/typed_echo.py" in code
    _narrow(run_cli(["cache", "stats"], cwd=root, env=_env(), width=80))


def _event(kind: str, node: str):
    return types.SimpleNamespace(kind=types.SimpleNamespace(value=kind), node=node, error=None)


def test_issue_15_the_live_view_at_80_columns() -> None:
    labels = {"layer:a": "3 layer(s) ..RUN pip install --no-index --find-links /wheels x",
              "deploy:b": "deploy Qwen/Qwen2.5-0.5B-Instruct"}  # fmt: skip
    console = Console(width=80, record=True)
    progress = make_progress(labels, False, console)
    for kind, node in (("running", "layer:a"), ("running", "deploy:b"), ("cached", "z")):
        progress.on_event(_event(kind, node))
    digest = "345bb2b72a594035c20f6e65d2d079ead34de860df1a92f7c03285017c5f3c31"
    progress.on_line("layer:a", f"#6 writing image sha256:{digest} done")
    console.print(progress)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "Qwen/Qwen2.5-0.5B-Instruct" in text  # the chute name whole
    # The line keeps its start and is cut at its end, its digest shortened to 12 hex.
    assert re.search(r"^running .* #6 writing image sha256:345bb\S*…\s*$", text, re.M), text
    assert "345bb2b72a594" not in text
    wide = Console(width=160, record=True)
    wide.print(progress)
    assert "#6 writing image sha256:345bb2b72a59… done" in wide.export_text()
