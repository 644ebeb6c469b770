"""Issue 12, the local target: ``up`` never reports a chute running that does not answer
as itself. Each test drives the real CLI on a temporary workspace and the real engine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import httpx
import pytest
import trio

from chutes_build.core._errors import DeployError
from chutes_build.engine import wait_http
from chutes_build.engine._local_ids import identity_mismatch
from tests.build.conftest import make_monorepo

pytestmark = pytest.mark.docker

BASE_ONLY = """\
from chutes_build import Chute, Image

image = Image(username="t", name="{name}", tag="1").from_base("parachutes/python:3.12")
chute = Chute(username="t", name="{name}", image=image)

@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"chute": "{name}", "text": text}}
"""


def _docker(repo, *args: str) -> str:
    return subprocess.run(
        [repo.docker, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_issue_12_an_image_that_is_only_from_base_builds_and_runs(monorepo) -> None:
    name = f"{monorepo.prefix}-bare"
    (monorepo.root / "chutes" / "bare.py").write_text(BASE_ONLY.format(name=name))
    summary = monorepo.up()
    assert summary["states"]["bare"] == "started", summary
    (image,) = [i for i in summary["images"] if i["chutes"] == [name]]
    # Nothing to build: the image is its base, tagged under its own name.
    assert image["status"] == "cached" and image["ref"] == f"{name}:1"
    assert image["layer"] == "chutes-build/python-base:bookworm"
    base_id = _docker(monorepo, "image", "inspect", "-f", "{{.Id}}", image["layer"])
    assert _docker(monorepo, "image", "inspect", "-f", "{{.Id}}", image["ref"]) == base_id
    answer = httpx.post(f"{monorepo.url('bare')}/hello", json="hi", timeout=10).json()
    assert answer == {"chute": name, "text": "hi"}
    again = monorepo.up()
    assert again["states"]["bare"] == "unchanged" and again["builds"] == []


NAMED = """\
from chutes_build import Chute, Image

image = Image(username="t", name="{prefix}-shared", tag="1").from_base("parachutes/python:3.12")
chute = Chute(username="t", name={name!r}, image=image)

@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"chute": {name!r}, "text": text}}
"""

#: Names that an ASCII slug maps to one container name (spaces vs dashes, accents, scripts).
CLASHING = {"space": "{p} dup", "dash": "{p}-dup", "accent": "{p}-café", "plain": "{p}-cafe",
            "cyrillic": "{p}-кафе", "japanese": "{p}-日本"}  # fmt: skip


def _named_workspace(repo) -> dict[str, str]:
    for path in (repo.root / "chutes").glob("*.py"):
        path.unlink()
    names = {}
    for stem, pattern in CLASHING.items():
        names[stem] = pattern.format(p=repo.prefix)
        text = NAMED.format(prefix=repo.prefix, name=names[stem])
        (repo.root / "chutes" / f"{stem}.py").write_text(text)
    return names


def _rows(summary: dict) -> dict[str, dict]:
    return {row["chute"]: row for row in summary["chutes"]}


def test_issue_12_chute_names_that_slug_alike_get_their_own_containers(monorepo) -> None:
    names = _named_workspace(monorepo)
    first = _rows(monorepo.up())
    assert {first[n]["state"] for n in names.values()} == {"started"}, first
    for name in names.values():  # each answers as itself, on its own port
        answer = httpx.post(f"{first[name]['url']}/hello", json="hi", timeout=10).json()
        assert answer == {"chute": name, "text": "hi"}
    ids = {}
    for name in names.values():
        ids[name] = _docker(monorepo, "ps", "-q", "--no-trunc", "--filter",
                            f"label=chutes-build.chute={name}")  # fmt: skip
    assert all(ids.values()) and len(set(ids.values())) == len(names)
    container_names = _docker(monorepo, "inspect", "-f", "{{.Name}}", *ids.values()).split()
    assert len(set(container_names)) == len(names)
    second = _rows(monorepo.up())
    assert {second[n]["state"] for n in names.values()} == {"unchanged"}
    workspace = _docker(
        monorepo,
        "inspect",
        "-f",
        '{{index .Config.Labels "chutes-build.workspace"}}',
        ids[names["dash"]],
    )
    monorepo.cli("down", "--target", "local", "chutes/space.py")  # by label: only that one
    left = _docker(monorepo, "ps", "-a", "-q", "--no-trunc", "--filter",
                   f"label=chutes-build.workspace={workspace}")  # fmt: skip
    assert set(left.split()) == set(ids.values()) - {ids[names["space"]]}


def _solo(tmp_path, docker: str, base: str, name: str, port_base: str | None = None):
    repo = make_monorepo(tmp_path / name, docker, base, [])
    if port_base is not None:
        pyproject = repo.root / "pyproject.toml"
        text = re.sub(r"port-base = \d+", port_base, pyproject.read_text())
        pyproject.write_text(text)
    chute = f"{repo.prefix}-{name}"
    (repo.root / "chutes" / f"{name}.py").write_text(BASE_ONLY.format(name=chute))
    return repo, chute


def _answer(row: dict) -> str:
    return httpx.post(f"{row['url']}/hello", json="hi", timeout=10).json()["chute"]


async def _ping_as(url: str, chute: str, key: str) -> None:
    expect = lambda response: identity_mismatch(response, chute, key)  # noqa: E731
    await wait_http(url + "/_ping", timeout=1, expect=expect)


def test_issue_12_two_workspaces_with_one_port_base_each_answer_as_themselves(
    tmp_path, docker_engine, python_base_image
) -> None:
    one, one_name = _solo(tmp_path, docker_engine, python_base_image, "one")
    port_base = re.search(r"port-base = \d+", (one.root / "pyproject.toml").read_text())[0]
    two, two_name = _solo(tmp_path, docker_engine, python_base_image, "two", port_base)
    try:
        (row,) = two.up()["chutes"]  # two takes the base port first, then goes down
        taken = row["url"]
        assert _answer(row) == two_name
        two.cli("down", "--target", "local")
        (held,) = one.up()["chutes"]
        assert held["url"] == taken and _answer(held) == one_name
        (moved,) = two.up()["chutes"]  # its kept port is one's now: it moves
        assert moved["state"] == "started" and moved["url"] != taken
        port, new = taken.rsplit(":", 1)[1], moved["url"].rsplit(":", 1)[1]
        assert re.fullmatch(rf"port {port} is held by pid \d+ \(.*chutes_runtime.*\); "
                            rf"moved to {new}", moved["note"]), moved["note"]  # fmt: skip
        assert _answer(moved) == two_name and _answer(held) == one_name
        trio.run(_ping_as, held["url"], one_name, held["key"])  # the ping says who answers
        with pytest.raises(DeployError, match=rf"^{re.escape(taken)}/_ping did not answer within "
                           rf"1s \(last: the port is answered by chute '{one_name}' "
                           rf"\(deploy key {held['key'][:12]}\), not by this one\)"):  # fmt: skip
            trio.run(_ping_as, held["url"], two_name, moved["key"])
        (again,) = two.up()["chutes"]
        assert again["state"] == "unchanged" and again["url"] == moved["url"]
    finally:
        one.cleanup()
        two.cleanup()


INTRUDER = """\
import http.server, json, os, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ok": True, "chute": "intruder", "deploy": "0" * 32}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
with open(sys.argv[2] + ".tmp", "w") as handle:
    handle.write(str(os.getpid()))
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
"""

#: Before the first `docker run`, a server that answers like a chute takes the port the
#: container is about to listen on: the port was free when `up` planned, then was not.
RACING_WRAPPER = """\
#!/usr/bin/env bash
if [[ "$1" == "run" && ! -e "{pidfile}" ]]; then
    port="" prev=""
    for arg in "$@"; do [[ "$prev" == "--port" ]] && port="$arg"; prev="$arg"; done
    setsid "{python}" "{server}" "$port" "{pidfile}" >/dev/null 2>&1 </dev/null &
    for _ in $(seq 400); do [[ -s "{pidfile}" ]] && break; sleep 0.05; done
fi
exec "{docker}" "$@"
"""


def test_issue_12_a_port_taken_after_planning_fails_and_the_next_up_moves(
    tmp_path, docker_engine, python_base_image
) -> None:
    repo, name = _solo(tmp_path, docker_engine, python_base_image, "raced")
    server, pidfile = tmp_path / "intruder.py", tmp_path / "intruder.pid"
    server.write_text(INTRUDER)
    wrapper = repo.root / "docker-wrapper"
    wrapper.write_text(RACING_WRAPPER.format(pidfile=pidfile, python=sys.executable,
                                             server=server, docker=docker_engine))  # fmt: skip
    try:
        proc = repo.cli("up", "--target", "local", "--json", check=False)
        assert proc.returncode == 1, proc.stdout[-2000:]
        summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
        ((row,), (failure,)) = summary["chutes"], summary["failed"]
        port = row["url"].rsplit(":", 1)[1]
        assert row["state"] == "failed"
        assert re.search(rf"^chute {name} \(container chutes-build-\S+\) did not become healthy: "
                         rf"http://127\.0\.0\.1:{port}/_ping did not answer: the container exited "
                         r"before it did \(last: the port is answered by chute 'intruder'",
                         failure["error"]), failure["error"]  # fmt: skip
        assert "\n  | " in failure["error"]  # the end of the container's log (its stderr too)
        assert (
            f"fix: another server holds port {port}: run `chutes-build up` again"
            in failure["error"]
        )
        pid = pidfile.read_text()
        (moved,) = repo.up()["chutes"]  # the intruder still holds the port: this one moves
        assert moved["state"] == "started" and moved["url"] != row["url"]
        assert moved["note"].startswith(f"port {port} is held by pid {pid} (")
        assert _answer(moved) == name
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        repo.cleanup()


def test_issue_12_a_damaged_deploy_record_is_written_again_and_plan_agrees(monorepo) -> None:
    """A running chute whose deploy record is damaged is adopted and recorded again, not
    trusted as recorded: afterwards ``plan`` has nothing left to do."""
    from chutes_build.cache import DiskStore
    from chutes_build.graph import compile_workspace
    from chutes_build.workspace._workspace import find_workspace

    first = monorepo.up()
    assert set(first["states"].values()) == {"started"}
    store = DiskStore(str(monorepo.root / ".cache"))
    graph = compile_workspace(find_workspace(str(monorepo.root)), None, store)
    damaged = graph.keys("deploy")[0]
    with open(store._path("ac", damaged), "r+b") as handle:
        handle.truncate(8)
    plan = json.loads(monorepo.cli("plan", "--json").stdout)
    assert plan["summary"]["dirty"] >= 1  # plan reads the damaged entry as a miss
    before = monorepo.containers()
    again = monorepo.up()
    assert again["builds"] == [] and monorepo.containers() == before  # nothing rebuilt or restarted
    assert store.get_action(damaged) is not None  # recorded again
    plan = json.loads(monorepo.cli("plan", "--json").stdout)
    assert plan["summary"]["dirty"] == 0, plan["summary"]
