"""Guarding one chute file's import inside the process that runs it.

While a file's module body runs:

- ``os._exit()`` raises :class:`ProcessExit` instead of ending the process,
  so the loader reports the call (with its line) and goes on;
- a ``KeyboardInterrupt`` the file raises itself is told apart from a real
  Ctrl-C (``interrupted`` is set only by the SIGINT handler);
- with a time limit, ``SIGALRM`` raises :class:`ImportTimeout` inside the
  running code, so a loop or a sleep ends with the line it was at.

Signals can only be handled on the main thread: elsewhere the guard does what
it can (``os._exit``). None of this stops code that ends the process by other
means (``posix._exit``, a crash, a signal): the evaluation worker
(``chutes_build.graph._isolate``) runs imports in a child process for that.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from ._errors import LoadError

__all__ = [
    "ImportGuard",
    "ImportTimeout",
    "ProcessExit",
    "exit_error",
    "guard_import",
    "timeout_error",
]


class ProcessExit(BaseException):
    """``os._exit(status)`` was called while a chute file was imported."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ImportTimeout(BaseException):
    """A chute file's import ran past its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class ImportGuard:
    """What happened during a guarded import: ``interrupted`` by a real Ctrl-C."""

    __slots__ = ("interrupted",)

    def __init__(self) -> None:
        self.interrupted = False


def _raise_exit(status: int = 0) -> None:
    raise ProcessExit(status)


def _handler(previous):
    """A handler to restore: ``None`` (not set from Python) restores the default."""
    return signal.SIG_DFL if previous is None else previous


@contextlib.contextmanager
def _signals(guard: ImportGuard, timeout: float | None) -> Iterator[None]:
    previous_int = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum, frame):
        guard.interrupted = True
        raise KeyboardInterrupt

    def on_alarm(signum, frame):
        raise ImportTimeout(timeout or 0.0)

    # An ignored SIGINT (the evaluation worker) stays ignored.
    if previous_int is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, on_interrupt)
    previous_alarm = signal.signal(signal.SIGALRM, on_alarm) if timeout else None
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, _handler(previous_alarm))
        signal.signal(signal.SIGINT, _handler(previous_int))


@contextlib.contextmanager
def guard_import(guard: ImportGuard, timeout: float | None = None) -> Iterator[None]:
    """Run the block with ``os._exit`` trapped, and signals handled as the module says."""
    real_exit = os._exit
    os._exit = _raise_exit
    try:
        if threading.current_thread() is threading.main_thread():
            with _signals(guard, timeout):
                yield
        else:
            yield
    finally:
        os._exit = real_exit


_TIMEOUT_FIX = (
    "make the import finish quickly (no loops, servers or downloads at module level: put them "
    'in a startup hook or under `if __name__ == "__main__":`), or raise import-timeout in '
    "[tool.chutes-build] (or CHUTES_BUILD_IMPORT_TIMEOUT)"
)
_EXIT_FIX = (
    "do not end the process while the file is imported: remove the call, or put it under "
    '`if __name__ == "__main__":`'
)


def timeout_error(file: str, line: int | None, seconds: float) -> LoadError:
    """The error of an import stopped after ``seconds``."""
    return LoadError(
        f"importing the chute file took longer than {seconds:g} s (the import-timeout) "
        "and was stopped",
        file=file,
        line=line,
        fix=_TIMEOUT_FIX,
    )


def exit_error(file: str, line: int | None, how: str) -> LoadError:
    """The error of an import that ended (or tried to end) its process ``how``."""
    return LoadError(f"importing the chute file {how}", file=file, line=line, fix=_EXIT_FIX)
