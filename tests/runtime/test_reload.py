"""Dev-mode code reload over real HTTP: swap, in-flight requests, failures, path rules."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio

from chutes_build import DeployError
from chutes_build.engine import ReloadResult, reload_code
from chutes_runtime import Settings
from chutes_runtime._codefiles import forget_local_modules
from tests.conftest import free_port

from .conftest import Served

APP = "chutes/app.py"
# {version}, {word}, {gate}, {log} are filled in; line numbers below are those of this text.
TEMPLATE = """import asyncio
import os

import helpers
from chutes_build import Chute

VERSION = {version}
chute = Chute(username="test", name="reload", image="parachutes/python:3.12")


@chute.on_shutdown()
def down(self):
    with open({log!r}, "a") as handle:
        handle.write(f"down {{VERSION}}\\n")


@chute.cord()
async def answer(self) -> dict:
    return {{"version": VERSION, "word": helpers.WORD}}


@chute.cord()
async def slow(self) -> dict:
    while not os.path.exists({gate!r}):
        await asyncio.sleep(0.01)
    return {{"version": VERSION}}
"""


class Workspace:
    """A workspace on disk with one chute that imports a local module, served in dev mode."""

    def __init__(self, root: Path) -> None:
        self.root, self.gate, self.log = root, str(root / "gate"), str(root / "shutdowns.log")
        (root / "pyproject.toml").write_text("[tool.chutes-build]\nchutes = ['chutes/*.py']\n")
        (root / "chutes").mkdir()
        (root / APP).write_bytes(self.app(1))
        (root / "helpers.py").write_bytes(b'WORD = "old"\n')
        self.served: Served | None = None

    def app(self, version: int) -> bytes:
        return TEMPLATE.format(version=version, gate=self.gate, log=self.log).encode()

    def serve(self, **settings) -> Served:
        target = f"{self.root / APP}:chute"
        config = Settings(target=target, dev=True, host="127.0.0.1", port=free_port(),
                          log_level="warning", **settings)  # fmt: skip
        self.served = Served(config).start()
        return self.served

    def stop(self) -> None:
        """Stop serving; this process may serve another workspace's ``helpers`` next."""
        Path(self.gate).touch()
        self.served.stop()
        forget_local_modules(os.path.realpath(self.root))

    def get(self, cord: str) -> dict:
        return httpx.post(f"{self.served.url}/{cord}", timeout=30).json()

    def reload(self, files: dict[str, bytes]) -> ReloadResult:
        return trio.run(reload_code, self.served.url, files)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path)
    workspace.serve()
    yield workspace
    workspace.stop()


def _wait(predicate, what: str) -> None:
    for _ in range(3000):
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def _shutdowns(ws: Workspace) -> str:
    return Path(ws.log).read_text() if os.path.exists(ws.log) else ""


def test_issue_15_reload_swaps_the_code_and_in_flight_requests_finish_on_the_old(ws) -> None:
    assert ws.get("answer") == {"version": 1, "word": "old"}
    slow: list[dict] = []
    thread = threading.Thread(target=lambda: slow.append(ws.get("slow")))
    thread.start()
    _wait(lambda: ws.served.app.metrics.in_flight == 1, "the slow request to start")
    old_app = ws.served.app

    result = ws.reload({APP: ws.app(2), "helpers.py": b'WORD = "new"\n'})
    assert result.ok and result.status == 200 and result.generation == 2, result
    assert result.written == (APP, "helpers.py") and result.error is None
    assert ws.get("answer") == {"version": 2, "word": "new"}
    assert ws.served.app is not old_app
    assert thread.is_alive() and slow == []
    assert _shutdowns(ws) == ""  # the old app serves on until its request is done

    Path(ws.gate).touch()
    thread.join(30)
    assert slow == [{"version": 1}]
    _wait(lambda: _shutdowns(ws) == "down 1\n", "the old code's shutdown hook")
    assert (ws.root / "helpers.py").read_bytes() == b'WORD = "new"\n'


def test_issue_15_reload_of_files_already_on_disk_writes_nothing(ws) -> None:
    """A workspace mounted into the container already holds the saved file."""
    (ws.root / "helpers.py").write_bytes(b'WORD = "saved"\n')
    result = ws.reload({"helpers.py": b'WORD = "saved"\n'})
    assert result.ok and result.written == () and result.unchanged == ("helpers.py",)
    assert ws.get("answer") == {"version": 1, "word": "saved"}
    (ws.root / APP).write_bytes(ws.app(3))
    assert ws.reload({}).ok  # no files: what is on disk
    assert ws.get("answer") == {"version": 3, "word": "saved"}


BROKEN = {
    "syntax": (b"x = (\n", 10, r"syntax error: "),
    "raises": (b"raise RuntimeError('boom')\n", 10,
               r"importing the chute file raised RuntimeError: boom"),
    "definition": (b"Chute(username='t', name='x', image='a/b:1', concurrency=0)\n", 10,
                   r"concurrency must be an integer from 1 to 256, got 0 \(at \$\.concurrency\)"),
    "startup": (b"@chute.on_startup()\ndef up(self):\n    raise ValueError('no model')\n", 12,
                r"starting the new code raised ValueError: no model"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_issue_15_a_broken_reload_keeps_the_old_code_and_says_file_and_line(ws, kind) -> None:
    tail, line, message = BROKEN[kind]
    head = b"\n".join(ws.app(2).split(b"\n")[:9]) + b"\n"  # up to the Chute line (line 8)
    result = ws.reload({APP: head + tail})
    assert not result.ok and result.status == 422 and result.generation == 1
    assert result.error is not None
    assert (result.error.file, result.error.line) == (APP, line), result.error
    assert re.match(rf"^chutes/app\.py:{line}: {message}", result.error.text), result.error.text
    assert "\n  fix: " in result.error.text
    assert ws.get("answer") == {"version": 1, "word": "old"}
    assert ws.reload({APP: ws.app(4)}).generation == 2  # the next good save is served
    assert ws.get("answer") == {"version": 4, "word": "old"}


@pytest.mark.parametrize(
    "path",
    [
        "../escape.py",
        "/tmp/absolute.py",
        "chutes/../../escape.py",
        "a//b.py",
        "./x.py",
        "link/escape.py",
        "chutes",
    ],  # fmt: skip
)
def test_issue_15_reload_refuses_a_path_outside_the_code_root(ws, path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (ws.root / "link").symlink_to(outside)
    result = ws.reload({"helpers.py": b'WORD = "new"\n', path: b"print('escaped')\n"})
    assert not result.ok and result.status == 400
    assert result.error.file == path
    assert re.match(rf"^{re.escape(path)}: refused path: ", result.error.text), result.error.text
    assert list(outside.iterdir()) == [] and not (ws.root.parent / "escape.py").exists()
    assert (ws.root / "helpers.py").read_bytes() == b'WORD = "old"\n'  # nothing was written
    assert ws.get("answer") == {"version": 1, "word": "old"}


def test_issue_15_reload_is_answered_to_localhost_only(ws) -> None:
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as client:
        answer = client.post(ws.served.url + "/_chutes_build/reload", json={"files": []})
    assert answer.status_code == 403
    assert answer.json() == {"detail": "code reload is answered to 127.0.0.1 only"}


def test_issue_15_reload_rejects_a_malformed_body(ws) -> None:
    url = ws.served.url + "/_chutes_build/reload"
    answer = httpx.post(url, json={"files": [{"path": "x.py"}]})
    assert answer.status_code == 400
    assert re.match(r"^malformed reload body: .*files\[0\]", answer.json()["detail"])
    assert httpx.get(url).status_code == 405


def test_issue_15_an_import_that_hangs_is_answered_and_the_old_code_serves(tmp_path) -> None:
    ws = Workspace(tmp_path)
    ws.serve(reload_timeout_s=0.3)
    try:
        inside = ws.root / "inside"
        loop = b"while not os.path.exists(%r): time.sleep(0.01)\n" % ws.gate
        hang = b"import os, time\nopen(%r, 'w').close()\n" % str(inside) + loop
        result = ws.reload({APP: hang})
        assert result.status == 504 and not result.ok
        assert re.match(r"^importing the new code ran past 0\.3 s", result.error.message)
        _wait(inside.exists, "the import to reach its loop")
        busy = ws.reload({})
        assert busy.status == 409, busy
        assert re.match(r"^the previous reload's import is still running \(at chutes/app\.py:3\)$",
                        busy.error.message), busy.error  # fmt: skip
        assert ws.get("answer") == {"version": 1, "word": "old"}
        Path(ws.gate).touch()  # the stuck import ends (and its modules are dropped)
        _wait(lambda: not ws.served.runtime.switch.reloader._thread.is_alive(), "the import")
        assert ws.get("answer") == {"version": 1, "word": "old"}
        assert ws.reload({APP: ws.app(5)}).ok
        assert ws.get("answer") == {"version": 5, "word": "old"}
    finally:
        ws.stop()


def test_issue_15_reload_code_raises_where_nothing_can_reload() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DeployError, match=r"^cannot reload the code of the chute at http://"):
        trio.run(reload_code, url, {})
