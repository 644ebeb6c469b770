"""The no-op record, written: what a ``build``, ``up`` or ``plan`` read and printed,
kept when the settled check answered it (a ``plan`` of the local target: when it
ended well). ``_replay`` says what a record holds and how it is checked.

The console script calls :func:`start_recording` before it imports the command
line and :func:`finish_recording` with its exit code. In between, the process's
own file accesses are traced, as build tools that trace a command's reads do
(tup, fabricate): an audit hook (:func:`sys.addaudithook`) sees every file opened
for reading and every folder listed; ``os.stat``, ``os.lstat`` and ``os.access``
are wrapped to see what was only checked, absent paths included. A subprocess, a
connection to anything but the engine's socket or a path given relative to a
folder descriptor taints the run: it is not recorded. The cache and the engine
say what else the run did (:func:`entry_used`, :func:`log_appended`,
:func:`port_probed`, :func:`engine_answered`), and the command says when the
settled check answered (:func:`run_settled`); stdout and stderr are teed.

A record is written only when every path is as it was when the run read it and none
changed within a second of the run's start, so the record can never hold a state
that a later change shares.
"""

from __future__ import annotations

import os
import sys
import time

from . import _replay

__all__ = ["engine_answered", "entry_used", "finish_recording", "log_appended", "port_probed",
           "run_settled", "run_unsettled", "start_recording"]  # fmt: skip

#: A path changed within this long before the run started may change again unseen.
RACY_NS = 1_000_000_000
#: A run that read more paths than this is not recorded (its record would be large).
LIMIT = 200_000
#: Records kept (the most recently used; one per command line and folder).
KEEP = 256
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_TAINTING = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                       "os.fork", "os.forkpty", "os.chdir", "os.chroot"})  # fmt: skip
_real = {name: getattr(os, name) for name in ("stat", "lstat", "access")}
_real_realpath = os.path.realpath


class _Recorder:
    def __init__(self, argv: list[str], env) -> None:
        self.env = env
        self.key = _replay.record_key(argv, os.getcwd(), env)
        self.own = _replay.noop_folder(env)  # the records themselves are no input
        self.started = time.time_ns()
        self.reads: dict[str, tuple | None] = {}
        self.touched: set[str] = set()
        self.accessed: dict[str, tuple | None] = {}
        self.ports: list[int] = []
        self.binds = 0
        self.connects: list[str] = []
        self.engine: list[tuple] = []
        self.appends: list[tuple[str, bytes]] = []
        self.output: list[tuple[int, str]] = []
        self.resolved: dict[str, str] = {}
        self.resolving = 0  # inside os.path.realpath: its lstat calls are not noted
        self.tainted: str | None = None
        self.answered = False
        self.lock: str | None = None

    def note(self, path, how: str = "") -> None:
        """``path`` was read, listed or checked (``how="access"``: only its permissions)."""
        if isinstance(path, int):
            return  # an open descriptor: what it came from was noted
        path = os.path.abspath(os.fsdecode(path))
        if path in self.reads or (path + os.sep).startswith(self.own + os.sep):
            return
        if len(self.reads) + len(self.accessed) >= LIMIT:
            self.tainted = "too many paths"
        elif how == "access":
            self.accessed.setdefault(path, _replay.signature(path, how))
        else:
            self.reads[path] = _replay.signature(path)


_RECORDER: _Recorder | None = None
_audited = False


def _audit(event: str, args: tuple) -> None:
    recorder = _RECORDER
    if recorder is None or recorder.tainted:
        return
    try:
        if event == "open":
            path, mode, flags = args
            if mode is not None and any(c in mode for c in "wax+"):
                return
            if mode is None and flags & _WRITING:
                return
            recorder.note(path)
        elif event in ("os.listdir", "os.scandir"):
            recorder.note("." if args[0] is None else args[0])
        elif event == "socket.connect":
            address = args[1]
            if not isinstance(address, str | bytes):
                recorder.tainted = f"a connection to {address!r}"
            else:
                recorder.connects.append(os.fsdecode(address))
        elif event == "socket.bind":
            recorder.binds += 1
        elif event in _TAINTING:
            recorder.tainted = event
    except Exception as exc:  # an audit hook must not fail the operation it sees
        recorder.tainted = f"{event}: {exc!r}"


def _checked(name: str):
    real = _real[name]

    def wrapper(path, *args, **kwargs):
        try:
            return real(path, *args, **kwargs)
        finally:
            recorder = _RECORDER
            if recorder is not None and not recorder.tainted and not recorder.resolving:
                if kwargs.get("dir_fd") is not None:
                    recorder.tainted = f"os.{name} relative to a folder descriptor"
                else:
                    recorder.note(path, "access" if name == "access" else "")

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = real.__doc__
    return wrapper


def _realpath(path, *args, **kwargs):
    """``os.path.realpath``, noted by its answer: what it depends on is which components
    are links, not when the folders on the way last changed."""
    recorder = _RECORDER
    if recorder is None or isinstance(path, int):
        return _real_realpath(path, *args, **kwargs)
    recorder.resolving += 1
    try:
        resolved = _real_realpath(path, *args, **kwargs)
    finally:
        recorder.resolving -= 1
    if not args and not kwargs and isinstance(path, str) and isinstance(resolved, str):
        recorder.resolved[os.path.abspath(path)] = resolved
    else:
        recorder.tainted = "os.path.realpath with options"
    return resolved


class _Tee:
    """A text stream that also keeps what is written to it."""

    def __init__(self, stream, fd: int, output: list) -> None:
        self._stream, self._fd, self._output = stream, fd, output

    def write(self, text: str) -> int:
        self._output.append((self._fd, text))
        return self._stream.write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def start_recording(argv: list[str], env=os.environ) -> None:
    """Trace this process's run of ``argv`` (a ``build``, ``up`` or ``plan``) for its
    record."""
    global _RECORDER, _audited
    if not argv or argv[0] not in _replay.COMMANDS or not _replay.enabled(env):
        return
    if env.get("CHUTES_BUILD_FAULT") or env.get("CHUTES_BUILD_FAULT_SEEN"):
        return  # a run with a fault armed must reach its fault points
    try:
        recorder = _Recorder(argv, env)
    except OSError:
        return
    if not _audited:  # an audit hook stays for the process; it does nothing between runs
        sys.addaudithook(_audit)
        _audited = True
    for name in _real:
        setattr(os, name, _checked(name))
    os.path.realpath = _realpath
    for entry in sys.path:  # listed before recording began: a new module there may shadow
        recorder.note(entry or ".")
    sys.stdout = _Tee(sys.stdout, 1, recorder.output)
    sys.stderr = _Tee(sys.stderr, 2, recorder.output)
    _RECORDER = recorder


def entry_used(path: str) -> None:
    """The cache entry at ``path`` was read and marked as used."""
    if _RECORDER is not None:
        _RECORDER.touched.add(path)


def log_appended(path: str, data: bytes) -> None:
    """``data`` was appended to the log at ``path``."""
    if _RECORDER is not None:
        _RECORDER.appends.append((path, data))


def port_probed(number: int, free: bool) -> None:
    """Port ``number`` was probed: free or not."""
    if _RECORDER is not None:
        if free:
            _RECORDER.ports.append(number)
        else:
            _RECORDER.tainted = f"port {number} is taken"


def engine_answered(path: str, requests: list[bytes], bodies: list[bytes]) -> None:
    """The engine at socket ``path`` answered ``requests`` with ``bodies``."""
    if _RECORDER is not None:
        _RECORDER.engine.append((path, requests, [_replay.project(b) for b in bodies]))


def run_settled(lock: str | None) -> None:
    """The settled check answered the run (holding the workspace's ``lock``, for ``up``)."""
    if _RECORDER is not None:
        _RECORDER.answered, _RECORDER.lock = True, lock


def run_unsettled() -> None:
    """The run has work to do (or goes on watching): it will not be recorded, so stop
    tracing it (a build that reads thousands of files pays nothing for a record)."""
    global _RECORDER
    _RECORDER = None
    _unwrap()


def _unwrap() -> None:
    for name, real in _real.items():
        setattr(os, name, real)
    os.path.realpath = _real_realpath


def finish_recording(code: int) -> None:
    """The run ended with ``code``: restore the streams and write its record when the
    settled check answered it and everything it read still holds (with
    ``CHUTES_BUILD_DEBUG`` set, say on stderr why a run is not recorded)."""
    global _RECORDER
    recorder, _RECORDER = _RECORDER, None
    _unwrap()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Tee):
            setattr(sys, name, stream._stream)
    if recorder is None:
        return
    try:
        if code != 0 or not recorder.answered:
            raise _NotKept("the run had work to do" if code == 0 else f"exit code {code}")
        _why_not(recorder)
        record = {"key": recorder.key, "paths": _paths(recorder),
                  "ports": recorder.ports, "engine": recorder.engine, "lock": recorder.lock,
                  "resolved": sorted(recorder.resolved.items()),
                  "appends": recorder.appends, "output": recorder.output}  # fmt: skip
        path = _replay.record_path(recorder.key, recorder.env)
        _replay.write_record({**record, "self": path}, path)
        _prune(os.path.dirname(path))
    except (_NotKept, OSError, ValueError) as exc:  # no record: the next run checks as usual
        if recorder.env.get("CHUTES_BUILD_DEBUG"):
            sys.stderr.write(f"no-op record not written: {exc}\n")


def _prune(folder: str) -> None:
    """Remove all but the :data:`KEEP` most recently used records (a replay marks its
    record used, so a workspace in use keeps its own)."""
    with os.scandir(folder) as entries:
        records = [(e.stat().st_mtime_ns, e.path) for e in entries if e.name.endswith(".noop")]
    for _mtime, path in sorted(records, reverse=True)[KEEP:]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class _NotKept(Exception):
    """Why a run is not recorded."""


def _why_not(recorder: _Recorder) -> None:
    if recorder.tainted:
        raise _NotKept(recorder.tainted)
    if recorder.binds != len(recorder.ports):
        raise _NotKept("a socket bound for something else than a port probe")
    engines = {path for path, _requests, _answers in recorder.engine}
    if not set(recorder.connects) <= engines:
        raise _NotKept("a connection to another socket")
    if len(recorder.connects) != sum(len(requests) for _p, requests, _a in recorder.engine):
        raise _NotKept("a connection the record cannot repeat")


def _paths(recorder: _Recorder) -> list[tuple[str, str, tuple | None]]:
    """Every path the run depends on, how (``_replay.signature``) and its state now;
    raises :class:`_NotKept` when one changed since it was read, or too recently."""
    reads = dict(recorder.reads)
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if isinstance(source, str) and os.path.abspath(source) not in reads:
            reads[os.path.abspath(source)] = _replay.signature(source)
    racy = recorder.started - RACY_NS
    paths = []
    for path, then in reads.items():
        how = "used" if path in recorder.touched else ""
        now = _replay.signature(path, how)
        if how:
            if then is None or now is None or then[:3] != now[:3]:
                raise _NotKept(f"{path} changed while the run read it")
        elif now != then:
            raise _NotKept(f"{path} changed while the run read it")
        elif now is not None and _changed_at(now) >= racy:
            raise _NotKept(f"{path} changed within a second of the run's start")
        paths.append((path, how, now))
    for path, then in recorder.accessed.items():
        if path not in reads:
            if _replay.signature(path, "access") != then:
                raise _NotKept(f"{path} changed while the run read it")
            paths.append((path, "access", then))
    return paths


def _changed_at(sig: tuple) -> int:
    """When a path (and a link's target) last changed: its latest mtime or ctime."""
    times = [sig[3], sig[4]]
    if len(sig) > 8:
        times += [sig[8], sig[9]]
    return max(times)
