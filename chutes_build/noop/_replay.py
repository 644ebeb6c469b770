"""The no-op record, replayed: a ``build`` or ``up`` that had nothing to do (or a local
``plan``), answered again without loading the workspace.

When the settled check answers a ``build`` or ``up`` (nothing to build, start or
record), or a ``plan`` of the local target ends well (it only reads), the console
script keeps a record of the run (``_trace``
writes it): every path the process read, listed or checked, each with its state; the
engine requests it made, with what the answers said; the ports it found free; the
cache entries it used; and what it printed. The next run of the same command line,
from the same folder, with the same environment and terminal, checks the record
before anything else is imported:

- every path is in its recorded state (``lstat``: inode, size, mode, mtime and ctime;
  a link's target too; an absent path still absent): the workspace's files, folders
  and configuration, the cache entries, the interpreter's and chutes-build's own
  modules, the installed packages;
- every path the run resolved (``os.path.realpath``) resolves to the same path;
- every recorded port is still free, and (``up``) the workspace's lock is free;
- the engine answers the same requests with the same images and containers
  (their ids, tags, names, images, states and labels).

Then it does what the recorded run did: it marks the cache entries used (as a read
does), appends the same cache counters, prints the same output and exits 0. Anything
else (a record that does not parse, a changed path, a busy lock, an engine that does
not answer) is a miss, and the command runs as usual, the same results either way.
A record is written only when every path it holds was last changed more than a
second before (as git and ninja treat a racily clean file), so a later change always
shows. ``CHUTES_BUILD_NOOP_RECORD=0`` turns recording and replay off (and
``CHUTES_BUILD_SETTLED=0``, which also turns the settled check off).

This module imports nothing of chutes-build and only what the standard library loads
fast: a replay costs the interpreter's start, a few hundred ``lstat`` calls and one
round trip to the engine.
"""

from __future__ import annotations

import marshal
import os
import stat as _stat
import sys
import zlib

try:  # the socket module's own import (its enums) costs a replay a tenth of its time
    import _socket as socket
except ImportError:  # pragma: no cover - an interpreter without it
    import socket  # type: ignore[no-redef]

__all__ = ["Miss", "ask_engine", "enabled", "get_request", "noop_folder", "port_free", "project",
           "replay", "signature"]  # fmt: skip

#: The record's format; a record of another format (or interpreter) is a miss.
FORMAT = 1
#: Variables a shell changes on its own, which no command reads, and
#: ``CHUTES_BUILD_DEBUG``, which changes only what a failing run prints (and makes
#: a replay say why it missed).
_NOISE = ("_", "OLDPWD", "CHUTES_BUILD_DEBUG")
_TIMEOUT = 10.0
#: The commands a record may answer (``plan`` when its target is local: it only reads).
COMMANDS = ("build", "plan", "up")
#: Taken before a recording run wraps them (``_trace``).
_lstat, _stat_target, _realpath = os.lstat, os.stat, os.path.realpath


class Miss(Exception):
    """The record does not hold: the command runs as usual."""


def enabled(env=os.environ) -> bool:
    """Whether records are kept and used: not with ``CHUTES_BUILD_NOOP_RECORD=0``, nor
    with ``CHUTES_BUILD_SETTLED=0`` (every fast path off)."""
    return env.get("CHUTES_BUILD_NOOP_RECORD") != "0" and env.get("CHUTES_BUILD_SETTLED") != "0"


def noop_folder(env=os.environ) -> str:
    """Where records live: ``$CHUTES_BUILD_CACHE_DIR/noop``, else the user cache's."""
    root = env.get("CHUTES_BUILD_CACHE_DIR")
    if root:
        return os.path.join(os.path.abspath(os.path.expanduser(root)), "noop")
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "chutes-build", "noop")


def record_key(argv: list[str], cwd: str, env) -> tuple:
    """What a record is for: the command line, the folder, the interpreter, the
    environment and the terminal (output is laid out for its width)."""
    terminal = []
    for fd in (0, 1, 2):
        tty = os.isatty(fd)
        terminal.append(tuple(os.get_terminal_size(fd)) if tty else None)
    items = tuple(sorted((k, v) for k, v in env.items() if k not in _NOISE))
    return (FORMAT, tuple(argv), cwd, sys.executable, sys.version, items, tuple(terminal))


def record_path(key: tuple, env) -> str:
    name = zlib.crc32(repr(key).encode("utf-8", "surrogateescape"))
    return os.path.join(noop_folder(env), f"{name:08x}.noop")


def signature(path: str, how: str = "") -> tuple | None:
    """What changes whenever ``path`` does (``None``: absent). A cache entry that reads
    mark as used (``how="used"``: its mtime is its last use, so any run moves it) is told
    by its inode, size and a checksum of its bytes instead; a path only checked with
    ``os.access`` (``how="access"``) by its inode, mode and owner."""
    try:
        st = _lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if how == "used":
        return (st.st_mode, st.st_ino, st.st_size, _checksum(path))
    if how == "access":
        return (st.st_mode, st.st_ino, st.st_uid, st.st_gid)
    sig = (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if _stat.S_ISLNK(st.st_mode):
        try:
            target = _stat_target(path)
        except OSError:
            return (*sig, None)
        sig += (target.st_mode, target.st_ino, target.st_size, target.st_mtime_ns,
                target.st_ctime_ns)  # fmt: skip
    return sig


def _checksum(path: str) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        crc = 0
        while chunk := os.read(fd, 1 << 20):
            crc = zlib.crc32(chunk, crc)
        return crc
    finally:
        os.close(fd)


# -- the engine ---------------------------------------------------------------------------------


def get_request(path: str, query: str) -> bytes:
    """``GET path?query`` as the engine's API wants it."""
    return (f"GET {path}?{query} HTTP/1.1\r\nHost: docker\r\n"
            "Accept: application/json\r\n\r\n").encode()  # fmt: skip


class _Connection:
    """An HTTP/1.1 connection to the engine's unix socket for ``GET`` requests
    (http.client would do, but costs a no-op run a tenth of its time to import)."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(_TIMEOUT)
        self.buffer = b""
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise

    def receive(self) -> bytes:
        """The body of the answer; any status but 200 is a miss."""
        head = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = head[0].split(" ", 2)
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        if len(status) < 2 or status[1] != "200":
            raise Miss(f"the engine answered {head[0]}")
        if headers.get("transfer-encoding", "").strip() == "chunked":
            return self._chunked()
        return self._exactly(int(headers["content-length"]))

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise Miss("the engine closed the connection")
        self.buffer += data

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        found, _, self.buffer = self.buffer.partition(marker)
        return found

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self._until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._until(b"\r\n")  # no trailers from the engine
                return b"".join(parts)
            parts.append(self._exactly(size))
            self._exactly(2)


def ask_engine(path: str, requests: list[bytes]) -> list[bytes]:
    """The bodies of the engine's answers to ``requests`` (JSON), each asked on a
    connection of its own so that it answers them at once. Raises :class:`Miss` or
    ``OSError`` when it does not answer."""
    return _Asked(path, requests).answers()


class _Asked:
    """Requests sent to the engine, whose answers are read later (a replay checks its
    paths while the engine works)."""

    def __init__(self, path: str, requests: list[bytes]) -> None:
        self.connections: list[_Connection] = []
        try:
            for request in requests:
                self.connections.append(_Connection(path))
                self.connections[-1].sock.sendall(request)
        except BaseException:
            self.close()
            raise

    def answers(self) -> list[bytes]:
        try:
            return [connection.receive() for connection in self.connections]
        finally:
            self.close()

    def close(self) -> None:
        for connection in self.connections:
            connection.sock.close()


def project(body: bytes) -> int:
    """A checksum of what a listing (``/images/json``, ``/containers/json``) says that a
    decision may use: each object's ids, tags, names, image, state, labels and ports,
    in a stable order (a container's ``Status``, "Up 5 minutes", changes by itself, and
    the engine lists containers created in the same second in any order)."""
    import json

    keys = ("Id", "RepoTags", "RepoDigests", "Names", "Image", "ImageID", "State", "Labels",
            "Ports", "Mounts")  # fmt: skip
    rows = sorted(repr([(key, row.get(key)) for key in keys]) for row in json.loads(body))
    return zlib.crc32(repr(rows).encode("utf-8", "surrogateescape"))


# -- replay -------------------------------------------------------------------------------------


def replay(argv: list[str], env=os.environ) -> bool:
    """Answer ``argv`` from its record when the record holds (then its output has been
    written and the command is done); ``False``: run the command as usual (with
    ``CHUTES_BUILD_DEBUG`` set, stderr says why)."""
    if not argv or argv[0] not in COMMANDS or not enabled(env):
        return False
    try:
        key = record_key(argv, os.getcwd(), env)
        path = record_path(key, env)
        with open(path, "rb") as handle:
            record = marshal.load(handle)
        if record["key"] != key:
            raise Miss("it is of another command line, folder or environment")
        lock = _lock(record["lock"])
        try:
            _check(record)
            _mark_used(record)
        finally:
            if lock is not None:
                os.close(lock)
    except FileNotFoundError:
        return False
    except (Miss, OSError, ValueError, EOFError, TypeError, KeyError, IndexError) as exc:
        if env.get("CHUTES_BUILD_DEBUG"):
            sys.stderr.write(f"no-op record not used: {exc}\n")
        return False
    _write(record["output"])
    return True


def _lock(path: str | None) -> int | None:
    """The workspace's ``up`` lock, held while the record is checked and used (a busy
    lock is a miss: the usual run waits for it)."""
    if path is None:
        return None
    import fcntl

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise Miss("another run holds the workspace") from None
    return fd


def _check(record: dict) -> None:
    asked = [(_Asked(engine, requests), projections)
             for engine, requests, projections in record["engine"]]  # fmt: skip
    try:
        _check_here(record)
        for ask, projections in asked:
            if [project(body) for body in ask.answers()] != projections:
                raise Miss("the engine's images or containers changed")
    finally:
        for ask, _projections in asked:
            ask.close()


def _check_here(record: dict) -> None:
    """The paths, links and ports of ``record`` (the engine is asked meanwhile)."""
    for log, _line in record["appends"]:
        if os.path.basename(log) != "stats.log":
            raise Miss(f"a record may append to a cache's stats.log only, not {log}")
    for path, how, sig in record["paths"]:
        if signature(path, how) != sig:
            raise Miss(f"{path} changed")
    for path, resolved in record["resolved"]:
        if _realpath(path) != resolved:
            raise Miss(f"{path} resolves elsewhere")
    for port in record["ports"]:
        if not port_free(port):
            raise Miss(f"port {port} is taken")


def port_free(port: int) -> bool:
    """Whether a server may listen on ``127.0.0.1:port`` now (as uvicorn binds it): the
    one probe the settled check and a replay both make."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    finally:
        sock.close()
    return True


def _mark_used(record: dict) -> None:
    """What the recorded run did besides printing: mark the cache entries it read as
    used (their mtime is their last use) and append its cache counters."""
    for path, how, _sig in record["paths"]:
        if how == "used":
            os.utime(path)
    for log, line in record["appends"]:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    os.utime(record["self"])  # in use: kept when old records are pruned


def write_record(record: dict, path: str) -> None:
    """Write ``record`` at ``path`` whole (a temporary file renamed over it)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        marshal.dump(record, handle)
    os.replace(temporary, path)


def _write(output: list[tuple[int, str]]) -> None:
    last = None
    for fd, text in output:
        stream = sys.stdout if fd == 1 else sys.stderr
        if last is not None and last is not stream:
            last.flush()
        stream.write(text)
        last = stream
    sys.stdout.flush()
    sys.stderr.flush()
