"""Issue 16: the settled check's own parts, without an engine: its HTTP/1.1 reading
over a unix socket (chunked and sized bodies, an error status, a closed connection)
against a real socket server, and every unusual run it leaves to the full run."""

from __future__ import annotations

import json
import os
import socketserver
import threading
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest

from chutes_build.cache import MemoryStore
from chutes_build.engine import RunOptions, settled_run
from chutes_build.engine._decide import probe_name
from chutes_build.engine._settled import _listings, _Unsettled


def _chunked(body: bytes) -> bytes:
    half = len(body) // 2
    parts = [body[:half], body[half:]]
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts if p)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


def _sized(body: bytes, status: str = "200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status.encode(), len(body), body)


class _Engine:
    """A unix-socket server answering each ``GET`` path with ``answers[path]``."""

    def __init__(self, path: str, answers: dict[str, bytes]) -> None:
        self.answers, self.asked = answers, []
        engine = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    target = line.split()[1].decode()
                    engine.asked.append(target)
                    answer = engine.answers.get(target.split("?")[0])
                    if answer is None:
                        return  # close without an answer
                    self.wfile.write(answer)

        self.server = socketserver.ThreadingUnixStreamServer(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sock(tmp_path):
    return str(tmp_path / "docker.sock")


def test_issue_16_listings_read_chunked_and_sized_answers(sock) -> None:
    images = [{"Id": "sha256:" + "a" * 64, "RepoTags": ["x:1"]}] * 300
    containers = [{"Id": "c1", "Names": ["/n"], "State": "running", "Labels": {}}]
    engine = _Engine(sock, {"/images/json": _chunked(json.dumps(images).encode()),
                            "/containers/json": _sized(json.dumps(containers).encode())})
    try:
        found = _listings(sock, ["x"], ["chutes-build.workspace=w"])
    finally:
        engine.close()
    assert found == (images, containers)
    asked = sorted(engine.asked)
    assert asked[0].startswith("/containers/json?all=1&filters=")
    assert json.loads(parse_qs(urlsplit(asked[1]).query)["filters"][0]) == {"reference": ["x"]}


@pytest.mark.parametrize("answer", [_sized(b'{"message": "no"}', "500 Internal Server Error"),
                                    None], ids=["error status", "closed"])
def test_issue_16_an_error_or_a_closed_connection_is_unsettled(sock, answer) -> None:
    engine = _Engine(sock, {} if answer is None else {"/images/json": answer})
    try:
        with pytest.raises(_Unsettled):
            _listings(sock, ["x"], None)
    finally:
        engine.close()


class _Graph:
    root, errors = "/ws", []

    def keys(self, kind=None):
        return []

    def nodes(self, kind=None):
        return []


def _session(**config):
    settings = {"registry": None, "builders": [], "remote_cache": None, "port_base": 18000,
                "runtime_production": False, **config}  # fmt: skip
    workspace = SimpleNamespace(root="/ws", config=SimpleNamespace(**settings))
    return SimpleNamespace(workspace=workspace, store=MemoryStore(), graph=_Graph())


UNUSUAL = {
    "settled off": ({}, {}, {"CHUTES_BUILD_SETTLED": "0"}),
    "dry run": ({"dry_run": True}, {}, {}),
    "force": ({"force": True}, {}, {}),
    "no cache": ({"no_cache": True}, {}, {}),
    "builder": ({"builder": "remote"}, {}, {}),
    "chutes target": ({"target": "chutes"}, {}, {}),
    "registry flag": ({"registry": "localhost:5000/x"}, {}, {}),
    "registry env": ({}, {}, {"CHUTES_BUILD_REGISTRY": "localhost:5000/x"}),
    "registry setting": ({}, {"registry": "localhost:5000/x"}, {}),
    "builders env": ({}, {}, {"CHUTES_BUILD_BUILDERS": "local,tcp://h:2375"}),
    "remote cache env": ({}, {}, {"CHUTES_BUILD_REMOTE_CACHE": "http://127.0.0.1:1"}),
    "remote cache setting": ({}, {"remote_cache": "http://127.0.0.1:1"}, {}),
    "tcp engine": ({}, {}, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}),
    "docker client named": ({}, {}, {"CHUTES_BUILD_DOCKER": "/usr/bin/docker"}),
    "no probe": ({}, {}, {"NO_PROBE": "1"}),
}


@pytest.mark.parametrize("case", list(UNUSUAL))
def test_issue_16_an_unusual_run_goes_to_the_full_run(sock, case) -> None:
    flags, config, extra = UNUSUAL[case]
    engine = _Engine(sock, {"/images/json": _sized(b"[]")})
    env = {"PATH": os.environ.get("PATH", ""), "DOCKER_HOST": f"unix://{sock}"}
    try:
        usual = _session()
        usual.store.save_struct("docker-client", probe_name(None, env), ["/bin/sh", "build"])
        settled = settled_run(usual, RunOptions(), env)
        assert settled is not None and settled.summary == {"failed": [], "images": []}
        session = _session(**config)
        env = {**env, **extra}
        if "NO_PROBE" not in extra:
            probe = probe_name(None, env)
            session.store.save_struct("docker-client", probe, ["/bin/sh", "build"])
        options = msgspec.structs.replace(RunOptions(), **flags)
        assert settled_run(session, options, env) is None
    finally:
        engine.close()
