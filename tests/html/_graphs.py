"""Node lists shaped like a real chutes workspace, for the HTML view tests."""

from __future__ import annotations

import hashlib
from itertools import count


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self._ids = count()

    def add(self, kind: str, label: str, deps: list[str], chutes: list[str], **extra) -> str:
        key = hashlib.blake2b(str(next(self._ids)).encode(), digest_size=16).hexdigest()
        node = {
            "key": key,
            "kind": kind,
            "label": label,
            "deps": deps,
            "chutes": chutes,
            "text": extra.get("text", label),
            "status": extra.get("status", "cached"),
            "reason": extra.get("reason", ""),
        }
        self.nodes.append(node)
        return key

    def chain(self, start: str, labels: list[str], chutes: list[str], **extra) -> str:
        for label in labels:
            start = self.add("layer", label, [start], chutes, **extra)
        return start


def small_graph() -> list[dict]:
    """Three chutes: two share a vLLM prefix; one has a changed source file."""
    b = _Builder()
    llm, emb = ["llama-70b", "qwen-32b"], ["embed-small"]
    base = b.add(
        "base", "parachutes/python:3.12", [], [*llm, *emb], text="FROM parachutes/python:3.12"
    )
    apt = b.add(
        "layer",
        "apt_install git curl",
        [base],
        [*llm, *emb],
        text="RUN apt-get update && \\\n    apt-get install -y git curl",
    )
    vllm = b.chain(apt, ["pip install vllm==0.6.3", "with_env HF_HOME"], llm)
    for name, status in [("llama-70b", "cached"), ("qwen-32b", "dirty")]:
        reason = "src/serve.py changed" if status == "dirty" else ""
        files = b.add(
            "files",
            f"{name}/src (4 files)",
            [],
            [name],
            status=status,
            text="src/serve.py\nsrc/model.py\nsrc/util.py\nsrc/__init__.py",
            reason=reason,
        )
        add = b.add(
            "layer",
            "add src /app",
            [vllm, files],
            [name],
            status=status,
            reason=reason,
            text="ADD src /app",
        )
        image = b.add("image", f"{name}:latest", [add], [name], status=status, reason=reason)
        b.add(
            "deploy",
            f"deploy {name}",
            [image],
            [name],
            status=status,
            reason=reason,
            text=f"chute {name}\ncords: /generate, /chat\nnode_selector: gpu_count=8",
        )
    sent = b.chain(
        apt,
        ["pip install torch", "pip install sentence-transformers"],
        emb,
        status="dirty",
        reason="pip_install list changed",
    )
    image = b.add(
        "image", "embed-small:latest", [sent], emb, status="dirty", reason="input layer changed"
    )
    b.add("deploy", "deploy embed-small", [image], emb, status="unknown")
    return b.nodes


def big_graph(total: int = 2000) -> list[dict]:
    """``total`` nodes: shared bases and prefixes, then long per-chute layer chains."""
    b = _Builder()
    bases = [b.add("base", f"base-{i}", [], []) for i in range(4)]
    prefixes = [b.chain(bases[g % 4], [f"g{g} step {j}" for j in range(8)], []) for g in range(10)]
    per_chute = 27  # 20 run layers, files, add, 3 env layers, image, deploy
    chute = 0
    while len(b.nodes) < total:
        name = f"chute-{chute:03d}"
        room = total - len(b.nodes)
        extra = room - per_chute if room < 2 * per_chute else 0
        status = "dirty" if chute % 7 == 0 else "cached"
        head = b.chain(
            prefixes[chute % 10],
            [f"{name} run {j}" for j in range(20 + extra)],
            [name],
            status=status,
        )
        files = b.add("files", f"{name} src", [], [name])
        tail = b.chain(
            b.add("layer", "add src", [head, files], [name]),
            [f"{name} env {j}" for j in range(3)],
            [name],
        )
        b.add("deploy", f"deploy {name}", [b.add("image", name, [tail], [name])], [name])
        chute += 1
    assert len(b.nodes) == total, len(b.nodes)
    return b.nodes
