"""Golden keys: any change to how keys are computed must show up here as a reviewed diff.

If one of these fails, the cache of every user is invalidated by your change.
That may be right (then bump ``FORMAT_VERSION`` in ``_canonical.py`` if the
payload changed shape, and update the pins), but it must be deliberate.
"""

from __future__ import annotations

import os

from chutes_build.cache import FileDigests
from chutes_build.definitions._directives import (
    Add,
    AptInstall,
    Entrypoint,
    Env,
    From,
    Run,
    User,
    Workdir,
)
from chutes_build.graph import (
    ChuteSnapshot,
    FileSnapshot,
    ImageSnapshot,
    compile_snapshots,
    node_key,
)


def test_node_key_itself():
    assert (
        node_key("layer", {"line": "RUN true"}, ("0" * 32,)) == "4c3a05cf1d90b52c5b2594aaaa1da446"
    )


def snapshot(directives, **chute) -> FileSnapshot:
    image = ImageSnapshot(
        username="me", name="golden", tag="1", uid="u", readme="", directives=tuple(directives)
    )
    settings = {
        "concurrency": 1,
        "max_instances": 1,
        "shutdown_after_seconds": 300,
        "scaling_threshold": 0.75,
    }
    spec = ChuteSnapshot(
        attr="chute", name="golden", username="me", uid="c", image=image, settings=settings,
        cords=({"path": "/hello", "method": "POST", "function": "hello", "stream": False},),
        node_selector={"gpu_count": 1, "min_vram_gb_per_gpu": 16, "max_hourly_price_per_gpu": None,
                       "include": None, "exclude": None},
        **chute,
    )  # fmt: skip
    return FileSnapshot(rel="chutes/golden.py", digest="f" * 32, chutes=(spec,))


def keys(tmp_path, directives, base_images=None) -> dict[str, str]:
    root = tmp_path / "ws"
    (root / "chutes" / "src").mkdir(parents=True, exist_ok=True)
    for name, text in (("model.py", "weights = 1\n"), ("run.sh", "#!/bin/sh\n")):
        path = root / "chutes" / "src" / name
        path.write_text(text)
        os.chmod(path, 0o755 if name.endswith(".sh") else 0o644)
    graph = compile_snapshots([snapshot(directives)], FileDigests(str(root)), base_images)
    assert not graph.errors
    return {f"{n.kind} {n.label}": n.key for n in graph.nodes()}


def test_golden_image_keys(tmp_path):
    directives = [
        From(image="parachutes/python:3.12"),
        User(user="root"),
        AptInstall(packages=("curl", "git")),
        Env(key="HF_HOME", value="/cache"),
        Workdir(path="/app"),
        Run(command="pip install torch==2.3.0"),
        Add(source="src", dest="/app/src", origin="chutes", chown="1000:1000"),
        Entrypoint(args=("python", "-m", "app")),
    ]
    assert keys(tmp_path, directives) == {
        "base parachutes/python:3.12": "8470ded82f5a093bfe689113d96a8ae4",
        "layer USER root": "9054e8f1c7e84c18254d39bd1316c72b",
        "layer RUN apt-get -y install curl git": "df82b070996fba8ae6b52edbd5714c6b",
        "layer ENV HF_HOME=/cache": "fbdd8c76f144273213e4033941787b0e",
        "layer WORKDIR /app": "e4fb870ed6f1c44f4e09a4a001ee3d9c",
        "layer RUN pip install torch==2.3.0": "d4fa193ae9fd45f33e20d36bd1afdaa7",
        "layer ADD --chown=1000:1000 chutes/src /app/src": "a79c4df924774d789549c4a6cc876a0b",
        'layer ENTRYPOINT ["python", "-m", "app"]': "478c6b0adfcaf1e0d42c99e4d0ff029b",
        "image me/golden:1": "d75360076fd749f1ccf4f434f3825bfd",
        "runtime on me/golden:1": "ba585d7e80a435799de00e75331dcd5f",
        "deploy golden": "5e8ceeb76363c4d664e02796096ff10b",
    }


def test_golden_base_substitution(tmp_path):
    directives = [From(image="parachutes/python:3.12"), Run(command="true")]
    found = keys(tmp_path, directives, {"parachutes/python:3.12": "local/python:3.12"})
    assert found == {
        "base local/python:3.12": "251185557df72543425def8de45eb09d",
        "layer RUN true": "6886f967abedc3e9ace3a67716c747a6",
        "image me/golden:1": "47724d8a4ccdba6c24afcf208be82fcc",
        "runtime on me/golden:1": "1c748d2b2104917e8f922e8b67c53e0e",
        "deploy golden": "34a8bcda1bcf78015d325a1cf3d99113",
    }


def test_golden_keys_do_not_depend_on_the_workspace_location(tmp_path):
    directives = [
        From(image="parachutes/python:3.12"),
        Add(source="src", dest="/app/", origin="chutes"),
    ]
    assert keys(tmp_path / "one", directives) == keys(tmp_path / "two" / "deeper", directives)
