"""Jobs: a chute's ``@chute.job`` functions, run the way the SDK's runtime runs them.

A job instance is told what to run at launch (production: the validator's answer carries
``job_id``, ``job_method``, ``job_status_url`` and ``job_data``; dev: a JSON file and a job
name). Once the server listens, the job starts as ``func(chute, **job_data)`` with
``job_data["output_dir"]`` a fresh folder (also ``$TMPDIR``), bounded by the job's
``timeout``. ``POST /_shutdown`` cancels it (404 ``Job task not found`` when no job runs).

The outcome is the SDK's: ``{"status": "complete", "result": ...}``, ``{"status":
"error", "detail": ...}`` or ``{"status": "cancelled", "detail": ...}``. With a status
URL, the outcome plus ``output_filenames`` (files under ``output_dir`` when the job has
``upload=True`` and completed, and the chute's log files) is POSTed there; the answer's
``output_storage_urls`` (``{relative name: signed URL}``) receive each file as a multipart
PUT (fields ``file`` and ``path``); then ``PUT {"status": "done"}`` closes the job. When
the job ends, the server stops.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import secrets
import tempfile
import traceback
from typing import Any

import msgspec

from chutes_build.core import ChutesBuildError

from ._http import send_json
from ._internal import Internal
from ._upstream import fetch

__all__ = ["JobError", "JobRun", "job_for", "load_job_data", "start_job"]

log = logging.getLogger("chutes_runtime")
LOG_FILES = ("/tmp/_chute.log", *(f"/tmp/_chute.log.{i}" for i in range(1, 5)))


class JobError(ChutesBuildError):
    """A job cannot start: unknown job name, unreadable job data."""


def load_job_data(path: str) -> dict:
    """The JSON object in ``path`` (the job's keyword arguments)."""
    try:
        with open(path, "rb") as handle:
            data = msgspec.json.decode(handle.read())
    except OSError as exc:
        raise JobError(
            f"cannot read job data: {exc.strerror}",
            file=path,
            fix="pass --job-data FILE with a JSON object",
        ) from None
    except msgspec.DecodeError as exc:
        raise JobError(
            f"job data is not valid JSON: {exc}",
            file=path,
            fix='write a JSON object, e.g. {"prompt": "hi"}',
        ) from None
    if not isinstance(data, dict):
        raise JobError(
            "job data must be a JSON object (its keys are the job's arguments)",
            file=path,
            fix='write e.g. {"prompt": "hi"}',
        )
    return data


def _pick(chute: Any, name: str | None) -> Any:
    jobs = {job.name: job for job in chute.jobs}
    if name is None and len(jobs) == 1:
        return next(iter(jobs.values()))
    if name in jobs:
        return jobs[name]
    known = ", ".join(sorted(jobs)) or "none"
    raise JobError(
        f"chute {chute.name!r} has no job {name!r} (its jobs: {known})",
        fix="name one of its @chute.job functions (--job NAME)",
    )


class JobRun:
    """One run of one job; ``await run()`` returns the outcome, ``cancel()`` stops it."""

    def __init__(
        self,
        chute: Any,
        job: Any,
        data: dict,
        status_url: str | None = None,
        pool: Any = None,
        retries: int = 3,
        pause_s: float = 1.0,
    ) -> None:
        self.chute, self.job, self.data, self.status_url = chute, job, dict(data), status_url
        self.pool, self.retries, self.pause_s = pool, retries, pause_s
        self.cancelled = asyncio.Event()
        self.outcome: dict | None = None
        self.output_dir = ""

    def cancel(self) -> None:
        self.cancelled.set()

    async def run(self) -> dict:
        self.output_dir = tempfile.mkdtemp(prefix="chute-job-")
        os.environ["TMPDIR"] = self.output_dir
        self.data["output_dir"] = self.output_dir
        if self.job.ssh and self.data.get("_ssh_public_key"):
            log.warning(
                "job %s asks for SSH access, which this runtime does not set up", self.job.name
            )
        self.outcome = await self._outcome()
        log.info("job %s: %s", self.job.name, self.outcome["status"])
        if self.status_url:
            await self._report(self.outcome)
        return self.outcome

    async def _call(self) -> Any:
        func = self.job.func
        if inspect.iscoroutinefunction(func):
            return await func(self.chute, **self.data)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.pool, lambda: func(self.chute, **self.data))
        return await result if inspect.isawaitable(result) else result

    async def _outcome(self) -> dict:
        task = asyncio.ensure_future(self._call())
        stop = asyncio.ensure_future(self.cancelled.wait())
        done, _ = await asyncio.wait(
            {task, stop}, timeout=self.job.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        stop.cancel()
        if task not in done:
            task.cancel()
            if self.cancelled.is_set():
                return {"status": "cancelled", "detail": "Job was cancelled."}
            detail = f"Job [{self.job.name}] timed out after {self.job.timeout} seconds."
            return {"status": "error", "detail": detail}
        try:
            return {"status": "complete", "result": task.result()}
        except asyncio.CancelledError:
            return {"status": "cancelled", "detail": "Job was cancelled."}
        except Exception as exc:
            return {"status": "error", "detail": f"Job failed: {exc}\n{traceback.format_exc()}"}

    def _files(self, outcome: dict) -> dict[str, str]:
        files: dict[str, str] = {}
        if self.job.upload and outcome["status"] == "complete":
            for folder, _, names in os.walk(self.output_dir):
                for name in names:
                    path = os.path.join(folder, name)
                    files[os.path.relpath(path, self.output_dir)] = path
        files.update({os.path.basename(p): p for p in LOG_FILES if os.path.exists(p)})
        return files

    async def _report(self, outcome: dict) -> None:
        files = self._files(outcome)
        body = msgspec.json.encode({**outcome, "output_filenames": sorted(files)}, enc_hook=str)
        answer = await self._send("POST", self.status_url, body, "application/json")
        targets = (msgspec.json.decode(answer or b"{}") or {}).get("output_storage_urls") or {}
        for name, url in targets.items():
            if name in files:
                payload, content_type = _multipart(files[name], name)
                await self._send("PUT", url, payload, content_type)
        await self._send("PUT", self.status_url, b'{"status":"done"}', "application/json")

    async def _send(self, method: str, url: str, body: bytes, content_type: str) -> bytes:
        problem = ""
        for attempt in range(self.retries):
            try:
                status, answer = await fetch(url, method, {"Content-Type": content_type}, body)
            except (OSError, TimeoutError) as exc:
                status, answer, problem = 0, b"", str(exc)
            if 200 <= status < 300:
                return answer
            problem = problem or f"HTTP {status}: {answer[:200]!r}"
            await asyncio.sleep(self.pause_s * (attempt + 1))
        log.error("job %s: %s %s failed: %s", self.job.name, method, url, problem)
        return b""


def _multipart(path: str, name: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    with open(path, "rb") as handle:
        data = handle.read()
    filename = os.path.basename(path).replace('"', "_")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n",
        f'--{boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n{name}\r\n'.encode(),
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def job_for(app: Any, settings: Any, launch: dict | None) -> JobRun | None:
    """The job this instance runs (None for a chute that serves cords), with ``POST
    /_shutdown`` added to ``app``'s internal routes."""
    launch = launch or {}
    run = None
    if settings.dev and getattr(settings, "job_data_path", None):
        job = _pick(app.chute, getattr(settings, "job_method", None))
        run = JobRun(app.chute, job, load_job_data(settings.job_data_path), pool=app.pool)
    elif launch.get("job_id"):
        job = _pick(app.chute, launch.get("job_method"))
        run = JobRun(
            app.chute,
            job,
            launch.get("job_data") or {},
            launch.get("job_status_url"),
            pool=app.pool,
        )
    app.internal[("POST", "/_shutdown")] = _Shutdown(run)
    app.known_paths.add("/_shutdown")
    return run


class _Shutdown(Internal):
    """``POST /_shutdown``: cancel the job (the server stops when it ends)."""

    def __init__(self, run: JobRun | None) -> None:
        super().__init__(self._cancel)
        self.run = run

    def _cancel(self, app: Any, value: Any, scope: dict) -> dict:
        log.warning("shutdown requested")
        self.run.cancel()
        return {"ok": True}

    async def respond(
        self, app: Any, scope: dict, send: Any, value: Any, encrypt: Any, extra: list | None = None
    ) -> None:
        if self.run is None:
            await send_json(send, 404, {"detail": "Job task not found"}, extra)
            return
        await super().respond(app, scope, send, value, encrypt, extra)


def start_job(runtime: Any) -> None:
    """Start ``runtime.job`` (when there is one) now that the server listens; stop the
    server when it ends, as the SDK does."""
    if runtime.job is None:
        return

    async def run_then_stop() -> None:
        try:
            outcome = await runtime.job.run()
            if runtime.settings.dev:
                print(msgspec.json.encode(outcome, enc_hook=str).decode(), flush=True)
        except Exception:
            log.exception("job %s failed", runtime.job.job.name)
        finally:
            runtime.stop()

    runtime.job_task = asyncio.ensure_future(run_then_stop())
