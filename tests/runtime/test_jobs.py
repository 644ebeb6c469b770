"""Jobs in the runtime: ``run --dev --job-data FILE`` runs a ``@chute.job`` locally, the server
stops when it ends, ``POST /_shutdown`` cancels it, and a job with a status URL reports its
outcome and uploads its output files as the SDK's runtime does (real HTTP servers)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading

import httpx
import pytest
import uvicorn

from chutes_runtime import Settings
from chutes_runtime._jobs import JobRun
from chutes_runtime._loader import load_target
from tests.conftest import free_port, run_cli
from tests.platform.standin._multipart import parse_multipart

from .conftest import Served

JOBS = """\
import asyncio
import os

from chutes_build import Chute, NodeSelector

chute = Chute(username="alice", name="jobs", image="alice/base:1.0",
              node_selector=NodeSelector(gpu_count=1))


@chute.job(upload=True)
async def render(self, prompt: str, output_dir: str, times: int = 1):
    with open(os.path.join(output_dir, "out.txt"), "w") as handle:
        handle.write(prompt * times)
    os.makedirs(os.path.join(output_dir, "sub"))
    with open(os.path.join(output_dir, "sub", "b.bin"), "wb") as handle:
        handle.write(b"\\x00\\x01")
    return {"chars": len(prompt) * times, "tmpdir": os.environ["TMPDIR"] == output_dir,
            "chute": self.name}


@chute.job()
def fails(self, output_dir: str):
    raise RuntimeError("boom")


@chute.job()
async def waits(self, output_dir: str):
    await asyncio.sleep(3600)
"""


@pytest.fixture
def jobs_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # a job sets it; restored after the test
    path = tmp_path / "jobs_chute.py"
    path.write_text(JOBS)
    (tmp_path / "args.json").write_text(json.dumps({"prompt": "ab", "times": 3}))
    (tmp_path / "empty.json").write_text("{}")
    return path


def _run(jobs_file, *args: str):
    target = f"{jobs_file}:chute"
    return run_cli(["run", target, "--port", str(free_port()), "--log-level", "warning", *args],
                   env=dict(os.environ))  # fmt: skip


def test_issue_18_run_dev_job_data_runs_a_job_locally(jobs_file):
    data = str(jobs_file.parent / "args.json")
    result = _run(jobs_file, "--dev", "--job-data", data, "--job", "render")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": "complete",
                       "result": {"chars": 6, "tmpdir": True, "chute": "jobs"}}  # fmt: skip


def test_a_failing_job_exits_non_zero_with_its_error(jobs_file):
    empty = str(jobs_file.parent / "empty.json")
    result = _run(jobs_file, "--dev", "--job-data", empty, "--job", "fails")
    assert result.returncode == 1
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "error"
    assert outcome["detail"].startswith("Job failed: boom\n")


@pytest.mark.parametrize(
    ("args", "pattern"),
    [(("--dev", "--job-data", "args.json", "--job", "nope"),
      r"^error: chute 'jobs' has no job 'nope' \(its jobs: fails, render, waits\)"),
     (("--dev", "--job-data", "args.json"),
      r"^error: chute 'jobs' has no job None \(its jobs: fails, render, waits\)"),
     (("--dev", "--job-data", "missing.json", "--job", "render"),
      r"^error: .*missing\.json: cannot read job data"),
     (("--job-data", "args.json"), r"^error: <command line>: running a job locally needs --dev")],
)  # fmt: skip
def test_bad_job_requests_are_clean_errors(jobs_file, args, pattern):
    args = tuple(str(jobs_file.parent / a) if a.endswith(".json") else a for a in args)
    result = _run(jobs_file, *args)
    assert result.returncode == 1
    assert re.match(pattern, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def _served_job(jobs_file, job: str) -> Served:
    empty = str(jobs_file.parent / "empty.json")
    settings = Settings(
        target=f"{jobs_file}:chute", host="127.0.0.1", port=free_port(), log_level="warning",
        dev=True, job_data_path=empty, job_method=job,
    )  # fmt: skip
    return Served(settings).start()


def test_shutdown_cancels_the_job_and_the_server_stops(jobs_file):
    served = _served_job(jobs_file, "waits")
    answer = httpx.post(f"{served.url}/_shutdown")
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    served.thread.join(30)
    assert not served.thread.is_alive()
    assert served.runtime.job.outcome == {"status": "cancelled", "detail": "Job was cancelled."}


class StatusServer:
    """The job status endpoint and signed upload URLs of the platform, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes, str]] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        ctype = dict(scope["headers"]).get(b"content-type", b"").decode()
        self.calls.append((scope["method"], scope["path"], body, ctype))
        answer = b"{}"
        if scope["method"] == "POST":
            urls = {"out.txt": f"{self.url}/upload/1", "sub/b.bin": f"{self.url}/upload/2"}
            answer = json.dumps({"output_storage_urls": urls}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": answer})


def test_a_job_reports_its_outcome_and_uploads_its_outputs(jobs_file):
    status = StatusServer()
    server = uvicorn.Server(uvicorn.Config(status, port=status.port, log_level="warning",
                                           lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.01)
        _module, chute = load_target(f"{jobs_file}:chute")
        job = next(j for j in chute.jobs if j.name == "render")
        run = JobRun(chute, job, {"prompt": "x"}, status_url=f"{status.url}/jobs/j1")
        outcome = asyncio.run(run.run())
    finally:
        server.should_exit = True
        thread.join(10)
    assert outcome["status"] == "complete"
    methods = [(m, p) for m, p, _, _ in status.calls]
    assert methods[0] == ("POST", "/jobs/j1") and methods[-1] == ("PUT", "/jobs/j1")
    assert sorted(methods[1:-1]) == [("PUT", "/upload/1"), ("PUT", "/upload/2")]
    reported = json.loads(status.calls[0][2])
    assert reported["status"] == "complete" and reported["result"]["chars"] == 1
    assert {"out.txt", "sub/b.bin"} <= set(reported["output_filenames"])
    uploads = {}
    for _method, _path, body, ctype in status.calls[1:-1]:
        form = parse_multipart(body, ctype)
        uploads[form["path"]] = form["file"][2]
    assert uploads == {"out.txt": b"x", "sub/b.bin": b"\x00\x01"}
    assert json.loads(status.calls[-1][2]) == {"status": "done"}


def test_shutdown_without_a_job_is_404(tmp_path):
    from .conftest import serve

    served = serve("dev_chute.py:chute", dev=True)
    try:
        answer = httpx.post(f"{served.url}/_shutdown")
        assert answer.status_code == 404 and answer.json() == {"detail": "Job task not found"}
    finally:
        served.stop()
