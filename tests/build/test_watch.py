"""``up --watch`` against the real engine: the dev loop as a person drives it.

The command runs as a subprocess with ``--json`` (one event a line); the test edits the
workspace's files and polls the chute until it answers as the edit says. Waits are
bounded only so that a hang fails the test instead of the suite; nothing is timed.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.build.conftest import make_monorepo

pytestmark = pytest.mark.docker

HANG = 240.0  # seconds before a wait that never ends fails the test


class Watch:
    """The running ``up --watch`` and the JSON lines it printed."""

    def __init__(self, repo) -> None:
        self.repo = repo
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local", "--watch",
             "--json"], cwd=repo.root, env=repo.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        self.errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.errors.extend(self.proc.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip():
                self.lines.put(json.loads(line))
        self.lines.put(None)

    def next_event(self, *kinds: str) -> dict:
        """The next printed object whose ``event`` is one of ``kinds`` (or a summary)."""
        deadline = time.monotonic() + HANG
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if item is None:
                raise AssertionError(f"up --watch ended: {''.join(self.errors)[-3000:]}")
            self.seen.append(item)
            if item.get("event") in kinds or ("summary" in item and "summary" in kinds):
                return item
        raise AssertionError(f"no {kinds} event; seen: {self.seen[-5:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=60)


def _answer(url: str) -> str | None:
    try:
        return httpx.post(f"{url}/hello", json="hi", timeout=5).json()["greeting"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def _poll(url: str, want: str) -> list[str | None]:
    """Answers until ``want`` comes (the list ends with it)."""
    answers: list[str | None] = []
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        answers.append(_answer(url))
        if answers[-1] == want:
            return answers
        time.sleep(0.05)
    raise AssertionError(f"never answered {want!r}: last {answers[-5:]}")


def _container(repo, name: str) -> str:
    proc = subprocess.run(
        [repo.docker, "ps", "--filter", f"label=chutes-build.chute={repo.prefix}-{name}",
         "--format", "{{.ID}}", "--no-trunc"], capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout.strip()


def test_issue_15_watch_reloads_code_keeps_broken_edits_out_and_rebuilds_images(
    tmp_path, docker_engine, python_base_image
) -> None:
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one"])
    watch = Watch(repo)
    try:
        summary = watch.next_event("summary")["summary"]
        url = summary["chutes"][0]["url"]
        watch.next_event("watching")
        assert _answer(url) == "hello"
        before = _container(repo, "one")

        repo.write_chute("one", greeting="reloaded")  # a code-only edit
        assert _poll(url, "reloaded")[-1] == "reloaded"
        assert watch.next_event("reloaded")["chute"] == f"{repo.prefix}-one"
        assert _container(repo, "one") == before  # the same container serves the new code

        path = repo.root / "chutes" / "one.py"
        good = path.read_text()
        path.write_text(good.replace("GREETING = ", "GREETING = (\n", 1))  # a syntax error
        broken = watch.next_event("broken")
        assert broken["file"] == "chutes/one.py"
        assert broken["text"].startswith("chutes/one.py:"), broken["text"]
        assert broken["text"].split(":")[1].isdigit(), broken["text"]
        assert _answer(url) == "reloaded" and _container(repo, "one") == before

        repo.write_chute("one", step="echo rebuilt > /app/name", greeting="rebuilt")
        answers = _poll(url, "rebuilt")  # an image edit: built, then a new container
        updated = watch.next_event("updated")
        assert updated["files"] == ["chutes/one.py"]
        assert [r["state"] for r in updated["rows"]] == ["restarted"]
        # The old container answered every request until the new one did: no gap.
        assert answers[0] == "reloaded" and set(answers) == {"reloaded", "rebuilt"}, answers
        assert answers.index("rebuilt") == len(answers) - 1
        assert _container(repo, "one") not in ("", before)

        assert watch.stop() == 0
        assert _answer(url) == "rebuilt"  # Ctrl-C leaves the chute running
    finally:
        if watch.proc.poll() is None:
            watch.proc.kill()
        repo.cleanup()


def test_issue_15_watch_is_for_the_local_target_only(tmp_path) -> None:
    repo = make_monorepo(tmp_path, "docker", "unused", ["one"])
    proc = repo.cli("up", "--target", "chutes", "--watch", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: invalid value for '--watch': --watch serves"), proc.stderr


HOOK_CHUTE = """\
import socket
from common.base import base
from chutes_build import Chute

image = base("{prefix}-hook").run_command("echo hook > /app/name")
chute = Chute(username="t", name="{prefix}-hook", image=image)
GREETING = "{greeting}"
HELD = []

@chute.on_startup()
async def hold_a_port(self):
    sock = socket.socket()
    sock.bind(("127.0.0.1", {port}))  # held for as long as the server runs
    sock.listen()
    HELD.append(sock)

@chute.cord(public_api_path="/hello")
async def hello(self, text: str) -> dict:
    return {{"greeting": GREETING}}
"""


def test_issue_15_watch_restarts_a_chute_whose_startup_hook_holds_a_port(
    tmp_path, docker_engine, python_base_image
) -> None:
    from tests.conftest import free_port

    repo = make_monorepo(tmp_path, docker_engine, python_base_image, [])
    port, path = free_port(), repo.root / "chutes" / "hook.py"
    path.write_text(HOOK_CHUTE.format(prefix=repo.prefix, greeting="hello", port=port))
    watch = Watch(repo)
    try:
        url = watch.next_event("summary")["summary"]["chutes"][0]["url"]
        watch.next_event("watching")
        before = _container(repo, "hook")
        path.write_text(HOOK_CHUTE.format(prefix=repo.prefix, greeting="again", port=port))
        answers = _poll(url, "again")  # the reload's hook cannot bind: restarted instead
        updated = watch.next_event("updated")
        assert updated["reason"] == "code reload not possible: restarted"
        assert [r["state"] for r in updated["rows"]] == ["restarted"]
        assert _container(repo, "hook") not in ("", before)
        assert "hello" in answers
        assert watch.stop() == 0
    finally:
        if watch.proc.poll() is None:
            watch.proc.kill()
        repo.cleanup()
