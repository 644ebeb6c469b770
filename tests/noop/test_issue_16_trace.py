"""Issue 16: how a run is recorded and when a record is used, on a stand-in engine.

A script drives ``chutes_build.noop`` in a process of its own, as the console script
does: it records a run that reads files and asks the engine, and later replays it.
The engine is an HTTP server on a unix socket answering ``/containers/json`` as
Docker's does; no Docker engine is needed.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
import time

import pytest

SCRIPT = """\
import json, sys
from chutes_build import noop

argv = ["build", "--json"]
mode, engine, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == "replay":
    sys.exit(0 if noop.replay(argv) else 3)
noop.start_recording(argv)
for path in files:
    with open(path) as handle:
        handle.read()
if mode == "subprocess":
    import subprocess
    subprocess.run(["true"], check=True)
requests = [noop.get_request("/containers/json", "all=1")]
bodies = noop.ask_engine(engine, requests)
noop.engine_answered(engine, requests, bodies)
noop.run_settled(None)
print("containers:", json.dumps(json.loads(bodies[0])))
print("a warning", file=sys.stderr)
noop.finish_recording(0)
"""


class _Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    containers: list = []


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        body = json.dumps(self.server.containers, separators=(",", ":")).encode()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip


@pytest.fixture
def world(tmp_path):
    engine = _Engine(str(tmp_path / "engine.sock"), _Handler)
    engine.containers = [{"Id": "c1", "Names": ["/one"], "State": "running",
                          "Status": "Up 1 second", "Labels": {"a": "b"}},
                         {"Id": "c2", "Names": ["/two"], "State": "running"}]  # fmt: skip
    threading.Thread(target=engine.serve_forever, daemon=True).start()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "drive.py").write_text(SCRIPT)
    (tmp_path / "work").mkdir()
    source = tmp_path / "work" / "chute.py"
    source.write_text("print('hello')\n")
    time.sleep(1.1)  # older than a second: a record may hold it
    yield {"tmp": tmp_path, "engine": engine, "source": source}
    engine.shutdown()
    engine.server_close()


def _drive(world, mode: str, *files, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHUTES_BUILD_")}
    environ.update(CHUTES_BUILD_CACHE_DIR=str(world["tmp"] / "cache"), **env)
    return subprocess.run(
        [sys.executable, str(world["tmp"] / "bin" / "drive.py"), mode,
         str(world["tmp"] / "engine.sock"), *map(str, files)],
        cwd=world["tmp"] / "work", env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _records(world) -> list:
    return sorted((world["tmp"] / "cache" / "noop").glob("*.noop"))


def test_issue_16_a_replay_prints_the_recorded_output_until_something_changes(world):
    recorded = _drive(world, "record", world["source"])
    assert recorded.returncode == 0, recorded.stderr
    assert len(_records(world)) == 1
    replayed = _drive(world, "replay")
    assert (replayed.returncode, replayed.stdout, replayed.stderr) == (
        0, recorded.stdout, recorded.stderr)  # fmt: skip
    world["engine"].containers[0]["Status"] = "Up 2 minutes"  # not what a decision reads
    assert _drive(world, "replay").returncode == 0
    world["engine"].containers.reverse()  # created in the same second: listed in any order
    assert _drive(world, "replay").returncode == 0
    world["engine"].containers.append({"Id": "c0", "Names": ["/zero"], "State": "running"})
    assert _drive(world, "replay").returncode == 3
    world["engine"].containers.pop()
    world["engine"].containers[0]["State"] = "exited"
    assert _drive(world, "replay").returncode == 3
    world["engine"].containers[0]["State"] = "running"
    assert _drive(world, "replay").returncode == 0
    world["source"].write_text("print('changed')\n")  # a file the run read
    assert _drive(world, "replay").returncode == 3
    assert _drive(world, "replay", CHUTES_BUILD_X="1").returncode == 3  # another environment


def test_issue_16_a_file_added_to_a_listed_folder_misses(world):
    assert _drive(world, "record", world["source"]).returncode == 0
    assert _drive(world, "replay").returncode == 0
    (world["tmp"] / "bin" / "helper.py").write_text("")  # the script's folder is listed
    assert _drive(world, "replay").returncode == 3


def test_issue_16_a_run_that_starts_a_process_is_not_recorded(world):
    assert _drive(world, "subprocess", world["source"]).returncode == 0
    assert _records(world) == []


def test_issue_16_a_run_that_read_a_file_changed_within_a_second_is_not_recorded(world):
    fresh = world["tmp"] / "work" / "fresh.py"
    fresh.write_text("")
    assert _drive(world, "record", fresh).returncode == 0
    assert _records(world) == []
    why = _drive(world, "record", fresh, CHUTES_BUILD_DEBUG="1").stderr
    assert f"{fresh} changed within a second of the run's start" in why


def test_issue_16_the_fast_paths_off_turns_replay_off(world):
    assert _drive(world, "record", world["source"]).returncode == 0
    assert _drive(world, "replay").returncode == 0
    assert _drive(world, "replay", CHUTES_BUILD_SETTLED="0").returncode == 3
    assert _drive(world, "replay", CHUTES_BUILD_NOOP_RECORD="0").returncode == 3
