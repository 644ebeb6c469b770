"""Ctrl-C in the middle of a build: nothing partial is recorded, nothing finished is redone."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from chutes_build.cache import DiskStore

pytestmark = pytest.mark.docker


def _wait_for(predicate, proc, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit  # a guard against a hang, not a timing assertion
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"up exited before {what}: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _ac_keys(store: DiskStore) -> set[str]:
    return {entry.name for entry in store.entries() if entry.area == "ac"}


def test_sigint_during_a_build_records_nothing_partial(tmp_path, docker_engine, python_base_image):
    from .conftest import make_monorepo

    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["fast", "slow"])
    repo.write_chute("slow", step="sleep 2 && echo slow > /app/name")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chutes_build.cli", "up", "--target", "local", "--json"],
            cwd=repo.root, env=repo.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        log = repo.log

        def sleeping() -> bool:
            return log.exists() and "DF RUN sleep 2" in log.read_text()

        _wait_for(sleeping, proc, "the sleep step started")
        time.sleep(0.5)  # let the client reach the RUN step; the assertions do not depend on it
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err[-3000:]

        store = DiskStore(str(repo.root / ".cache"))
        recorded = _ac_keys(store)
        for key in recorded:  # every entry is whole and readable
            assert store.get_action(key) is not None, key
        done_before = {t.split(":", 1)[1] for t in repo.builds() if t.split(":", 1)[1] in recorded}
        interrupted = {t.split(":", 1)[1] for t in repo.builds()} - recorded
        assert interrupted, "the slow layer's build must have been cut short"

        start = log.stat().st_size
        summary = repo.up()
        rebuilt = {t.split(":", 1)[1] for t in repo.builds(start)}
        assert not rebuilt & done_before, "a build that had finished ran again"
        assert interrupted <= rebuilt, "what was cut short is built again"
        assert summary["states"]["slow"] == "started"
        assert summary["states"]["fast"] in ("started", "unchanged")
        assert summary["failed"] == []
    finally:
        repo.cleanup()
