"""The local target's planning, ``ps``, ``clean``, orphan removal and ``down`` against
the in-memory ``FakeDocker``: what the engine holds decides what runs, and each step
asks the engine only what it must."""

from __future__ import annotations

import re
import textwrap

import pytest

from chutes_build.cache import ActionResult, MemoryStore, scope_id
from chutes_build.core import BuildError, DeployError
from chutes_build.engine import (
    BuildContext,
    LocalOptions,
    clean_tags,
    container_name,
    down_local,
    local_status,
    orphans,
    plan_local,
    plan_work,
    remove_orphans,
    run_work,
    runtime_tags,
    unreferenced_tags,
    workspace_containers,
)
from chutes_build.engine._local_ids import L_CHUTE, L_DEPLOY, L_PORT, L_RUNTIME, L_SLOT, L_WORKSPACE
from chutes_build.engine.testing import FakeDocker
from chutes_build.graph import compile_workspace
from chutes_build.workspace import find_workspace
from tests.conftest import free_port

BASE = "chutes-build/busybox:latest"
RUNTIME = "0123456789abcdef0123456789abcdef"
CHUTE = """\
from chutes_build import Chute, Image

image = (
    Image(username="t", name="{name}", tag="1")
    .from_base("{base}")
    .run_command("echo shared > /shared")
    .run_command("echo {name} > /name")
)
chute = Chute(username="t", name="{name}", image=image)


@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"text": text}}
"""


def two_chutes(tmp_path):
    """``(workspace, store, graph)`` of chutes ``a`` and ``b`` on ``BASE``, in memory."""
    (tmp_path / "chutes").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent('[tool.chutes-build]\nchutes = ["chutes/*.py"]\nnetwork = "none"\n')
    )
    for name in ("a", "b"):
        (tmp_path / "chutes" / f"{name}.py").write_text(CHUTE.format(name=name, base=BASE))
    store, workspace = MemoryStore(), find_workspace(str(tmp_path))
    return workspace, store, compile_workspace(workspace, None, store)


@pytest.fixture
def workspace(tmp_path):
    _workspace, store, graph = two_chutes(tmp_path)
    docker = FakeDocker()
    docker.add_image(BASE)
    return BuildContext(graph, store, docker, network="none", workdir=str(tmp_path))


async def _build(ctx: BuildContext) -> list[str]:
    """One ``build``; the tags the engine was asked to build."""
    before = len(ctx.docker.builds)
    work = await plan_work(ctx, ctx.graph.keys("image"))
    outcome = await run_work(work, jobs=2, keep_going=False)
    assert outcome is None or not outcome.failed
    return [tag for tag, _ in ctx.docker.builds[before:]]


async def test_a_second_build_builds_nothing_and_a_lost_tag_is_rebuilt(workspace) -> None:
    docker = workspace.docker
    first = await _build(workspace)
    assert first and all(tag.startswith("chutes-build/layer:") for tag in first)
    assert {"a:1", "b:1"} <= set(docker.images)
    assert docker.images["a:1"] != docker.images["b:1"]
    shared = [text for _, text in docker.builds if "echo a" not in text and "echo b" not in text]
    assert len(first) == len(set(first)) and len(shared) <= 1  # the shared layer once
    assert await _build(workspace) == []
    assert len(docker.called("image_ids")) == 2  # one existence check per run
    lost = next(tag for tag, text in docker.builds if "echo a" in text)
    await docker.remove_images([lost])
    assert await _build(workspace) == [lost]


async def test_a_base_the_engine_lacks_is_named_before_anything_builds(workspace) -> None:
    del workspace.docker.images[BASE]
    pattern = rf"^base image {re.escape(BASE)} does not exist in the local Docker engine "
    with pytest.raises(BuildError, match=pattern + r"\(no registry is reached for FROM\)") as info:
        await plan_work(workspace, workspace.graph.keys("image"))
    assert info.value.fix.startswith(f"pull or load it (`docker pull {BASE}`)")
    assert workspace.docker.builds == []


def _container(ctx: BuildContext, slot: str, key: str, port: int, **labels: str) -> None:
    root = ctx.graph.root
    ctx.docker.add_container(container_name(root, slot), f"chutes-build/runtime:{RUNTIME}",
                             labels={L_WORKSPACE: scope_id(root), L_SLOT: slot,
                                     L_CHUTE: slot.split("/")[1], L_DEPLOY: key,
                                     L_RUNTIME: RUNTIME, L_PORT: str(port), **labels})  # fmt: skip


async def _plan(ctx: BuildContext, opts: LocalOptions):
    known = {image: RUNTIME for image in ctx.graph.keys("image")}
    work = await plan_work(ctx, ctx.graph.keys("image"), runtime_tags(known))
    containers = await workspace_containers(ctx.docker, ctx.graph.root)
    rows = await plan_local(ctx, opts, work, ctx.graph.keys("deploy"), known, containers)
    return work, {row["chute"]: row for row in rows}


async def test_a_running_recorded_chute_is_unchanged_and_a_stale_one_redeploys(workspace):
    await _build(workspace)
    workspace.docker.add_image(f"chutes-build/runtime:{RUNTIME}")
    workspace.store.put_action(RUNTIME, ActionResult(kind="runtime", outputs={}))
    opts = LocalOptions(cache_dir=workspace.workdir, port_base=free_port())
    work, rows = await _plan(workspace, opts)
    assert {rows["a"]["state"], rows["b"]["state"]} == {None}
    keys = {row["chute"]: row["key"] for row in rows.values()}
    assert {keys["a"], keys["b"]} <= set(work.tasks)
    assert not any(work.node_id(key).startswith("runtime:") for key in work.tasks)  # recorded
    port_a = int(rows["a"]["url"].rsplit(":", 1)[1])
    port_b = int(rows["b"]["url"].rsplit(":", 1)[1])
    _container(workspace, "t/a", keys["a"], port_a)
    _container(workspace, "t/b", "an-older-deploy-key", port_b)
    workspace.store.put_action(keys["a"], ActionResult(kind="deploy-local", outputs={}))
    work, rows = await _plan(workspace, opts)
    assert rows["a"]["state"] == "unchanged" and keys["a"] not in work.tasks
    assert rows["b"]["state"] is None and keys["b"] in work.tasks


async def test_a_chute_that_never_answers_is_removed_with_the_error(workspace) -> None:
    await _build(workspace)
    workspace.docker.add_image(f"chutes-build/runtime:{RUNTIME}")
    workspace.store.put_action(RUNTIME, ActionResult(kind="runtime", outputs={}))
    opts = LocalOptions(cache_dir=workspace.workdir, port_base=free_port(), health_timeout=0.3)
    work, rows = await _plan(workspace, opts)
    with pytest.raises(DeployError, match=r"^chute a \(container chutes-build-a-\w+\) did not "
                       r"become healthy: "):  # fmt: skip
        await work.tasks[rows["a"]["key"]].run()
    started = workspace.docker.called("run_container")
    assert started == [(f"chutes-build/runtime:{RUNTIME}", container_name(workspace.graph.root,
                                                                          "t/a"))]  # fmt: skip
    assert workspace.docker.containers_by_name == {}  # the next up starts it afresh


async def test_orphans_are_the_containers_of_chutes_no_longer_in_the_workspace(workspace):
    ctx, root = workspace, workspace.graph.root
    _container(ctx, "t/a", "k-a", 1)
    _container(ctx, "t/gone", "k-gone", 2)
    ctx.docker.add_container("someone-else", BASE, labels={L_WORKSPACE: "another"})
    found = await workspace_containers(ctx.docker, root)
    assert sorted(c.labels[L_SLOT] for c in found) == ["t/a", "t/gone"]
    gone = orphans(root, ctx.graph, found)
    assert [c.labels[L_SLOT] for c in gone] == ["t/gone"]
    rows = await remove_orphans(ctx, gone)
    assert rows == [{"chute": "gone", "key": "k-gone", "image": f"chutes-build/runtime:{RUNTIME}",
                     "url": None, "state": "removed", "note": "no longer in the workspace"}]
    assert sorted(ctx.docker.containers_by_name) == [container_name(root, "t/a"), "someone-else"]
    down = await down_local(ctx.docker, root, None)
    assert [row["chute"] for row in down] == ["a"]
    assert sorted(ctx.docker.containers_by_name) == ["someone-else"]


async def test_ps_reads_state_uptime_and_restarts_in_two_engine_calls(workspace) -> None:
    ctx, root = workspace, workspace.graph.root
    _container(ctx, "t/a", "k-a", free_port())
    _container(ctx, "t/b", "k-b", free_port())
    ctx.docker.containers_by_name[container_name(root, "t/b")].state = "exited"
    ctx.docker.containers_by_name[container_name(root, "t/a")].restarts = 2
    rows = {row["chute"]: row for row in await local_status(ctx.docker, root)}
    assert rows["a"]["state"] == "running" and rows["a"]["restarts"] == 2
    assert rows["a"]["uptime_s"] > 0 and rows["a"]["health"] == "no answer"
    assert rows["b"]["state"] == "exited" and rows["b"]["uptime_s"] is None
    assert rows["b"]["health"] == "not running" and rows["b"]["deploy"] == "k-b"
    assert [call[0] for call in ctx.docker.calls] == ["containers", "inspect_containers"]
    ctx.docker.containers_by_name.clear()
    assert await local_status(ctx.docker, root) == []


async def test_clean_removes_unnamed_tags_and_keeps_those_in_use(workspace) -> None:
    ctx, docker = workspace, workspace.docker
    keep, old, used = (f"chutes-build/layer:{'1' * 32}", f"chutes-build/layer:{'2' * 32}",
                       f"chutes-build/runtime:{'3' * 32}")  # fmt: skip
    for tag in (keep, old, used):
        docker.add_image(tag)
    ctx.store.put_action("4" * 32, ActionResult(kind="layer", outputs={"tag": keep}))
    docker.add_container("user", used)
    tags = await unreferenced_tags(docker, ctx.store)
    assert tags == [old, used]
    assert await clean_tags(docker, tags) == ([old], [used])
    assert keep in docker.images and used in docker.images and old not in docker.images
    assert BASE in docker.images  # another repository: never listed
