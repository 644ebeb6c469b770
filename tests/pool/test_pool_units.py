"""Issue 17: the pool's parts that need no engine: settings, the ring, dispatch, the
registry client (over httpx.MockTransport, speaking the distribution API)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import trio
import trio.testing

from chutes_build.core._errors import BuildError
from chutes_build.engine._docker import BUILDKIT, BUILDX, DockerClient
from chutes_build.engine._engines import EngineClient, client_for, parse_builders, pool_settings
from chutes_build.engine._pool import Engine, Pool, Ring
from chutes_build.engine._registry import Registry, parse_registry
from chutes_build.workspace._workspace import find_workspace

LOCAL = DockerClient("/usr/bin/docker", BUILDKIT)


class _Config:
    registry: str | None = None
    builders: list[str] = []


def test_issue_17_settings_come_from_flags_then_environment_then_workspace():
    config = _Config()
    config.registry, config.builders = "reg.internal:5000/team", ["ctx-a"]
    env = {"CHUTES_BUILD_BUILDERS": "unix:///run/b.sock", "CHUTES_BUILD_REGISTRY_AUTH": "u:p"}
    registry, specs = pool_settings(None, None, env, config)
    got = (registry.host, registry.prefix, registry.auth)
    assert got == ("reg.internal:5000", "team", ("u", "p"))
    assert [(s.name, s.kind, s.target) for s in specs] == [
        ("unix:///run/b.sock", "host", "unix:///run/b.sock")
    ]
    registry, specs = pool_settings("127.0.0.1:1/x", "a=tcp://h:2376,buildx:k8s,local", {}, config)
    assert registry.layer("k") == "127.0.0.1:1/x/layer:k"
    assert [(s.name, s.kind) for s in specs] == [("a", "host"), ("buildx:k8s", "buildx"),
                                                 ("local", "local")]  # fmt: skip
    registry, specs = pool_settings(None, None, {}, config)
    assert [(s.kind, s.target) for s in specs] == [("context", "ctx-a")]
    assert pool_settings(None, None, {}, _Config()) == (None, [])


def test_issue_17_a_registry_alone_builds_on_this_machine():
    registry, specs = pool_settings("127.0.0.1:5000/cb", None, {}, _Config())
    assert [s.kind for s in specs] == ["local"]


@pytest.mark.parametrize(
    ("registry", "builders", "pattern"),
    [
        ("http://127.0.0.1:5000/x", None,
         r"^invalid registry 'http://127.0.0.1:5000/x' in --registry$"),
        ("127.0.0.1:5000", None, r"^invalid registry '127.0.0.1:5000' in --registry$"),
        (None, "unix:///a.sock", r"^builders are set \(--builders\) but no registry is$"),
        ("127.0.0.1:5000/x", "a=unix:///a,a=unix:///b",
         r"^builder 'a' is named twice in --builders$"),
        ("127.0.0.1:5000/x", "http://h:1", r"^invalid builder 'http://h:1' in --builders$"),
    ],
)  # fmt: skip
def test_issue_17_bad_settings_say_where_and_how_to_fix(registry, builders, pattern):
    with pytest.raises(BuildError) as caught:
        pool_settings(registry, builders, {}, _Config())
    assert re.match(pattern, caught.value.message)
    assert caught.value.fix


def test_issue_17_workspace_table_takes_registry_and_builders(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.chutes-build]\nregistry = "127.0.0.1:5000/cb"\nbuilders = ["unix:///a.sock"]\n'
    )
    config = find_workspace(str(tmp_path)).config
    assert (config.registry, config.builders) == ("127.0.0.1:5000/cb", ["unix:///a.sock"])


def test_issue_17_engine_clients_aim_at_their_engine(monkeypatch):
    monkeypatch.setenv("DOCKER_CONTEXT", "elsewhere")
    registry = parse_registry("127.0.0.1:5000/cb", "test")
    [host, context, buildx] = parse_builders(["a=ssh://me@h", "ctx", "buildx:remote"], "test")
    names = ["a", "ctx", "buildx:remote"]
    env = client_for(LOCAL, host, registry, names).env()
    assert env["DOCKER_HOST"] == "ssh://me@h" and "DOCKER_CONTEXT" not in env
    assert client_for(LOCAL, context, registry, names).env()["DOCKER_CONTEXT"] == "ctx"
    with pytest.raises(BuildError, match=r"^builder 'buildx:remote' is a buildx builder, but"):
        client_for(LOCAL, buildx, registry, names)
    argv = client_for(DockerClient("/d", BUILDX), buildx, registry, names).build_argv()
    assert argv[:6] == ["/d", "buildx", "build", "--load", "--builder", "remote"]
    assert "--cache-to=type=registry,ref=127.0.0.1:5000/cb/cache:buildx-remote,mode=max" in argv
    assert "--cache-from=type=registry,ref=127.0.0.1:5000/cb/cache:a" in argv
    assert "--cache-to" not in " ".join(client_for(LOCAL, host, registry, names).build_argv())


def test_issue_17_the_ring_moves_only_the_new_engines_share():
    keys = [f"key-{i}" for i in range(600)]
    three, four = Ring(["a", "b", "c"]), Ring(["a", "b", "c", "d"])
    assert all(sorted(three.order(k)) == ["a", "b", "c"] for k in keys[:20])
    moved = [k for k in keys if three.order(k)[0] != four.order(k)[0]]
    assert moved and all(four.order(k)[0] == "d" for k in moved)
    shares = {name: sum(three.order(k)[0] == name for k in keys) for name in "abc"}
    assert min(shares.values()) > 100  # each engine gets a real share of 600 keys


def _pool(jobs: int) -> Pool:
    engines = [Engine(n, n, EngineClient("/d", BUILDKIT), jobs) for n in ("a", "b", "c")]
    return Pool(engines, Registry("127.0.0.1:1", "cb"), LOCAL)


async def test_issue_17_a_full_warm_engine_hands_the_segment_to_the_next_on_the_ring():
    pool = _pool(jobs=1)
    order = pool.ring.order("first-key")
    got = [await pool._acquire("first-key") for _ in range(3)]
    assert [e.name for e in got] == order
    waiting: list[str] = []

    async def fourth() -> None:
        waiting.append((await pool._acquire("first-key")).name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fourth)
        await trio.testing.wait_all_tasks_blocked()
        assert waiting == []  # every engine is full
        pool._release(got[1])
    assert waiting == [order[1]]


async def test_issue_17_down_engines_are_passed_over_and_all_down_is_an_error():
    pool = _pool(jobs=2)
    first, second, third = (pool.engines[n] for n in pool.ring.order("k"))
    first.down = "gone"
    assert (await pool._acquire("k")) is second
    second.down = third.down = "gone"
    with pytest.raises(BuildError, match=r"^every engine of the pool is down \("):
        await pool._acquire("k")


def _fake_registry(blobs_mounted: list, manifests: dict) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and "/manifests/" in path:
            if path not in manifests:
                return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
            if manifests[path] == "broken":
                return httpx.Response(500, text="storage failure")
            return httpx.Response(200, content=manifests[path], headers={
                "content-type": "application/vnd.docker.distribution.manifest.v2+json"})
        if request.method == "POST" and path.endswith("/blobs/uploads/"):
            blobs_mounted.append((path, request.url.params["mount"], request.url.params["from"]))
            return httpx.Response(201)
        if request.method == "PUT" and "/manifests/" in path:
            manifests[path] = request.content
            return httpx.Response(201)
        return httpx.Response(405)

    return httpx.MockTransport(handle)


MANIFEST = json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:c0"},
                       "layers": [{"digest": "sha256:l1"}]}).encode()  # fmt: skip


async def test_issue_17_one_lookup_per_reference_and_an_engine_free_retag():
    mounted: list = []
    manifests = {"/v2/cb/layer/manifests/k1": MANIFEST}
    registry = Registry("127.0.0.1:1", "cb", transport=_fake_registry(mounted, manifests))
    found = await registry.image_ids([registry.layer("k1"), registry.layer("k2")])
    assert found == {"127.0.0.1:1/cb/layer:k1": "sha256:c0"}
    assert await registry.retag(registry.layer("k1"), registry.image("app:1")) == "sha256:c0"
    uploads = "/v2/cb/app/blobs/uploads/"
    assert mounted == [(uploads, d, "cb/layer") for d in ("sha256:c0", "sha256:l1")]
    assert manifests["/v2/cb/app/manifests/1"] == MANIFEST


async def test_issue_17_a_registry_error_names_the_registry_and_the_fix():
    registry = Registry("127.0.0.1:1", "cb", transport=_fake_registry([], {
        "/v2/cb/layer/manifests/bad": "broken"}))  # fmt: skip
    with pytest.raises(BuildError, match=r"^registry 127\.0\.0\.1:1 answered 500 for ") as caught:
        await registry.image_ids([registry.layer("bad")])
    assert "scripts/registry" in caught.value.fix
    assert Registry("reg.example:443", "x").base_url == "https://reg.example:443"
    assert Registry("localhost:5000", "x").base_url == "http://localhost:5000"


def test_issue_17_progress_names_the_engine_of_each_step():
    import io

    from rich.console import Console

    from chutes_build.engine._progress import JsonProgress, LiveProgress

    stream = io.StringIO()
    JsonProgress({"layer:k": "2 layer(s) ..RUN x"}, stream).on_engine("layer:k", "gpu1")
    assert json.loads(stream.getvalue()) == {"event": "engine", "node": "layer:k",
                                             "engine": "gpu1"}  # fmt: skip
    live = LiveProgress({"layer:k": "2 layer(s) ..RUN x"}, Console(width=120))
    live.state["layer:k"] = "running"
    live.on_engine("layer:k", "gpu1")
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(live)
    assert "2 layer(s) ..RUN x @ gpu1" in console.export_text()
