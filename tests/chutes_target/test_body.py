"""The deploy body made from the graph equals the platform client's body from the live chute."""

from __future__ import annotations

from chutes_build.cache import MemoryStore
from chutes_build.engine._chutes_target import (
    ChutesOptions,
    deploy_body_for,
    remote_deploy_key,
    remote_dockerfile,
    remote_image_key,
)
from chutes_build.graph import compile_workspace
from chutes_build.platform import deploy_body
from chutes_build.workspace._workspace import discover, find_workspace, load_paths

JOB_CHUTE = """\
from chutes_build import Chute, Image, NodeSelector

chute = Chute(username="alice", name="jobs-x", image=Image(username="alice", name="j", tag="1"),
              node_selector=NodeSelector(gpu_count=2, include=["h100"]), tagline="t",
              readme="r", concurrency=4, max_instances=3, scaling_threshold=0.5,
              shutdown_after_seconds=600, allow_external_egress=True, lock_modules=True)

@chute.job(ports=[{{"name": "web", "port": 8080, "proto": "http"}}], timeout=60, ssh=True)
async def train(self):
    return None
"""


def _graph_and_live(root):
    workspace = find_workspace(str(root))
    graph = compile_workspace(workspace, None, MemoryStore())
    live = {c.name: c for f in load_paths(workspace, discover(workspace)) for _, c in f.chutes}
    return graph, live


def test_bodies_match_the_client_for_cords_and_jobs(source):
    (source / "chutes" / "jobs_x.py").write_text(JOB_CHUTE.format())
    graph, live = _graph_and_live(source)
    for key in graph.keys("deploy"):
        attrs = graph.node(key)
        code = (source / attrs.file).read_text()
        module = attrs.file.rsplit("/", 1)[-1][:-3]
        uid = graph.node(attrs.image).uid
        expected = deploy_body(live[attrs.chute], code=code, filename=f"{module}.py",
                               ref_str=f"{module}:chute")  # fmt: skip
        assert deploy_body_for(attrs, uid, code, public=False) == expected, attrs.chute


def test_remote_keys_depend_on_the_api_and_dockerfile_keeps_the_requested_base(source):
    text = (source / "pyproject.toml").read_text()
    (source / "pyproject.toml").write_text(
        text + 'base-images = { "parachutes/python:3.12" = "local/python:x" }\n'
    )
    graph, _live = _graph_and_live(source)
    image = graph.keys("image")[0]
    assert graph.dockerfile(image).startswith("FROM local/python:x\n")
    assert remote_dockerfile(graph, image).startswith("FROM parachutes/python:3.12\n")
    a, b = ChutesOptions("http://a"), ChutesOptions("http://b")
    assert remote_image_key(image, a.api_url) != remote_image_key(image, b.api_url)
    deploy = graph.keys("deploy")[0]
    assert remote_deploy_key(deploy, a.api_url, False) != remote_deploy_key(deploy, a.api_url, True)
    assert remote_image_key(image, "http://a/") == remote_image_key(image, "http://a")
