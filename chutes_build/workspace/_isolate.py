"""Importing chute files in worker processes: one file cannot end, hang or poison a run.

A chute file is user code run at import: it can call ``os._exit``, loop
forever, crash the interpreter, or patch modules the next file relies on.
So the files an evaluation must import are split between a few workers
(``fork``ed from this process, which has the definitions loaded already, so a
worker starts in milliseconds; at most one per CPU, up to :data:`MAX_JOBS`).
Each worker imports its files in order with the in-process guard
(``chutes_build.workspace._guard``: ``os._exit`` trapped, a per-file ``SIGALRM``), turns
each file's chutes into plain snapshots and sends one msgpack frame per file
down a pipe. This process never imports a chute file.

The parent waits on all pipes with a deadline per worker: the time limit of the
file it is on, plus a grace period for the worker's own alarm to fire first
(which names the line). A worker that ends before its last frame, or is still
silent at its deadline, is killed with its process group (servers a file
started go with it), that file gets an error naming it, and a new worker
takes the files after it. A run with nothing to import starts no worker.

A worker ignores SIGINT: a real Ctrl-C reaches this process, which kills the
workers on its way out, while a ``KeyboardInterrupt`` a file raises is that
file's error. Workers read stdin from ``/dev/null`` and print to stderr.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import struct
import sys
import time
import traceback

import msgspec

from .. import core as _errors
from ..core import ChutesBuildError, DefinitionWarning, LoadError
from ._guard import exit_error, timeout_error
from ._snapshot import ChuteSnapshot, SharedParts, snapshot_chutes
from ._workspace import LoadedFile, Workspace, load_paths

__all__ = ["MAX_JOBS", "Outcome", "import_isolated"]

#: Most workers one evaluation starts (each imports shared helpers once).
MAX_JOBS = 4
#: Fewest files worth a worker of their own.
_FILES_PER_JOB = 32
#: Files imported per loader session in a worker: local modules are dropped after each batch.
_BATCH = 200
#: Seconds past a file's time limit before its worker is killed from outside.
_GRACE = 2.0
#: Seconds the parent sleeps after taking in frames, so several arrive per wake-up.
_COALESCE = 0.01
_HEADER = struct.Struct(">I")
_INTERNAL_ERROR = 70  # EX_SOFTWARE: the worker itself failed


class ErrorData(msgspec.Struct, frozen=True, array_like=True):
    """A :class:`ChutesBuildError` as plain data, with the user's traceback as text."""

    kind: str
    message: str
    fix: str | None = None
    file: str | None = None
    line: int | None = None
    field: str | None = None
    trace: str = ""


class WorkerTraceback(Exception):
    """The traceback of an error raised in a worker, shown by ``--debug``."""

    def __str__(self) -> str:
        return "\n" + self.args[0]


class Outcome(msgspec.Struct, frozen=True, array_like=True):
    """What importing one file produced: its chutes and local imports, or an error."""

    rel: str
    deps: tuple[str, ...] = ()
    chutes: tuple[ChuteSnapshot, ...] = ()
    failure: ErrorData | None = None
    #: What loading the file warned about, ``file`` relative to the workspace root.
    warnings: tuple[DefinitionWarning, ...] = ()

    @property
    def error(self) -> ChutesBuildError | None:
        return None if self.failure is None else _revive(self.failure)


def _error_data(error: ChutesBuildError) -> ErrorData:
    trace = "".join(traceback.format_exception(error)) if error.__cause__ is not None else ""
    return ErrorData(
        type(error).__name__, error.message, error.fix, error.file, error.line, error.field, trace
    )


def _revive(data: ErrorData) -> ChutesBuildError:
    cls = getattr(_errors, data.kind, None)
    if not (isinstance(cls, type) and issubclass(cls, ChutesBuildError)):
        cls = LoadError
    error = cls.__new__(cls)
    ChutesBuildError.__init__(
        error, data.message, fix=data.fix, file=data.file, line=data.line, field=data.field
    )
    if data.trace:
        error.__cause__ = WorkerTraceback(data.trace)
    return error


def _outcome(loaded: LoadedFile, root: str) -> Outcome:
    error, chutes = loaded.error, ()
    if error is None:
        try:
            chutes = snapshot_chutes(loaded, root)
        except Exception as exc:  # noqa: BLE001 - a value no snapshot can hold
            error = LoadError(
                f"cannot record the file's chutes: {type(exc).__name__}: {exc}",
                file=loaded.path,
                fix="keep chute settings to plain values (str, int, float, bool, lists, dicts)",
            )
    failure = None if error is None else _error_data(error)
    warnings = tuple(w.relative_to(root) for w in loaded.warnings)
    return Outcome(loaded.rel, tuple(loaded.deps), chutes, failure, warnings)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _child(fd: int, workspace: Workspace, paths: list[str], timeout: float, root: str) -> None:
    """The worker's whole life: import ``paths``, send a frame per file, exit. Never returns."""
    exit_now, status = os._exit, 0  # a file may replace os._exit; this one is kept
    gc.freeze()  # the collector leaves the inherited heap alone: no copy-on-write churn
    try:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(2, 1)
        encode = msgspec.msgpack.Encoder().encode

        def send(loaded: LoadedFile) -> None:
            frame = encode(_outcome(loaded, root))
            _write_all(fd, _HEADER.pack(len(frame)) + frame)

        for start in range(0, len(paths), _BATCH):
            load_paths(workspace, paths[start : start + _BATCH], timeout=timeout, progress=send)
    except BaseException:  # noqa: BLE001 - report and end; the parent names the file
        status = _INTERNAL_ERROR
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        exit_now(status)


class _Worker:
    """One forked worker importing ``paths`` (those from ``offset`` on in the caller's list)."""

    def __init__(self, workspace: Workspace, paths: list[str], offset: int, timeout: float):
        self.paths, self.offset, self.timeout = paths, offset, timeout
        self.done, self.buffer = 0, bytearray()
        root = os.path.realpath(workspace.root)
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child ends in os._exit
            os.close(read)
            _child(write, workspace, paths, timeout, root)
        os.close(write)
        with contextlib.suppress(OSError):  # set on both sides: no race with stop()
            os.setpgid(pid, pid)
        self.pid, self.fd = pid, read
        self.deadline = time.monotonic() + timeout + _GRACE

    def read(self, outcomes: dict[int, Outcome], decode) -> bool:
        """Take in what the worker sent; False once it closed its end."""
        data = os.read(self.fd, 1 << 20)
        self.buffer += data
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            end = _HEADER.size + size
            outcomes[self.offset + self.done] = decode(self.buffer[_HEADER.size : end])
            del self.buffer[:end]
            self.done += 1
            self.deadline = time.monotonic() + self.timeout + _GRACE
        return bool(data)

    @property
    def current(self) -> str | None:
        """The file the worker is importing now (None when it sent every frame)."""
        return self.paths[self.done] if self.done < len(self.paths) else None

    def stop(self) -> int:
        """Kill the worker and what it started; return its wait status."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        os.close(self.fd)
        return os.waitpid(self.pid, 0)[1]


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"ended the process that imported it (killed by {name})"
    return f"ended the process that imported it (exit status {os.waitstatus_to_exitcode(status)})"


def _jobs(files: int) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_JOBS, cpus or 1, files // _FILES_PER_JOB))


def _failed(path: str, root: str, error: ChutesBuildError) -> Outcome:
    rel = os.path.relpath(os.path.realpath(path), root).replace(os.sep, "/")
    return Outcome(rel, failure=_error_data(error))


class _Pool:
    """The workers of one evaluation, and the outcomes they sent, by index in ``paths``."""

    def __init__(self, workspace: Workspace, paths: list[str], timeout: float) -> None:
        self.workspace, self.paths, self.timeout = workspace, paths, timeout
        self.root = os.path.realpath(workspace.root)
        self.outcomes: dict[int, Outcome] = {}
        self.workers: dict[int, _Worker] = {}
        self.poller = select.poll()
        self.shared = SharedParts()
        self._decode = msgspec.msgpack.Decoder(Outcome).decode

    def decode(self, data: bytes) -> Outcome:
        """An outcome as a worker sent it, its parts shared with the outcomes before it
        (each is held until the last file is imported)."""
        outcome = self._decode(data)
        if not outcome.chutes:
            return outcome
        chutes = tuple(self.shared.chute(chute) for chute in outcome.chutes)
        return msgspec.structs.replace(outcome, chutes=chutes)

    def start(self, offset: int, stop: int) -> None:
        if offset < stop:
            worker = _Worker(self.workspace, self.paths[offset:stop], offset, self.timeout)
            self.workers[worker.fd] = worker
            self.poller.register(worker.fd, select.POLLIN)

    def retire(self, worker: _Worker, error: ChutesBuildError | None) -> None:
        """Stop ``worker``; give its current file ``error`` and the rest to a new worker."""
        self.poller.unregister(worker.fd)
        del self.workers[worker.fd]
        current, index = worker.current, worker.offset + worker.done
        status = worker.stop()
        if current is None:
            return
        if error is None:
            error = exit_error(current, None, _how_it_ended(status))
        self.outcomes[index] = _failed(current, self.root, error)
        self.start(index + 1, worker.offset + len(worker.paths))

    def run(self) -> None:
        while self.workers:
            wait = min(w.deadline for w in self.workers.values()) - time.monotonic()
            events = self.poller.poll(max(0.0, wait) * 1000)
            for fd, _ in events:
                worker = self.workers[fd]
                if not worker.read(self.outcomes, self.decode):
                    self.retire(worker, None)
            now = time.monotonic()
            for worker in [w for w in self.workers.values() if w.deadline <= now]:
                self.retire(worker, timeout_error(worker.current or "", None, self.timeout))
            if events and any(w.current is not None for w in self.workers.values()):
                # Let frames gather in the pipes: waking for each one costs the workers
                # a context switch per file (a third of a cold import, measured).
                time.sleep(_COALESCE)

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.workers.clear()


def import_isolated(workspace: Workspace, paths: list[str], timeout: float) -> list[Outcome]:
    """Import each of ``paths`` in a worker process, at most ``timeout`` seconds each.

    Returns one outcome per path, in order; a file that ended or hung its worker
    gets an error naming it. Never raises for what a file does.
    """
    pool = _Pool(workspace, paths, timeout)
    jobs = _jobs(len(paths))
    bounds = [len(paths) * i // jobs for i in range(jobs + 1)]
    try:
        for start, stop in zip(bounds, bounds[1:], strict=False):
            pool.start(start, stop)
        pool.run()
    finally:
        pool.close()
    return [pool.outcomes[i] for i in range(len(paths))]
