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
(``chutes_build.workspace._isolate``) runs imports in a child process for that.
"""

from __future__ import annotations

import os
import signal
import threading

from ..core import LoadError

__all__ = [
    "ImportGuard",
    "ImportTimeout",
    "ProcessExit",
    "exit_error",
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
    """A context manager around one import; ``interrupted`` says a real Ctrl-C arrived.

    A class rather than a generator: it runs once per file, a thousand times a run.
    """

    __slots__ = ("_alarm", "_exit", "_int", "_signals", "interrupted", "timeout")

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout
        self.interrupted = False

    def _on_interrupt(self, signum, frame):
        self.interrupted = True
        raise KeyboardInterrupt

    def _on_alarm(self, signum, frame):
        raise ImportTimeout(self.timeout or 0.0)

    def __enter__(self) -> ImportGuard:
        self._exit, os._exit = os._exit, _raise_exit
        self._signals = threading.current_thread() is threading.main_thread()
        if self._signals:
            self._int = signal.getsignal(signal.SIGINT)
            if self._int is not signal.SIG_IGN:  # the evaluation worker ignores it
                signal.signal(signal.SIGINT, self._on_interrupt)
            if self.timeout:
                self._alarm = signal.signal(signal.SIGALRM, self._on_alarm)
                signal.setitimer(signal.ITIMER_REAL, self.timeout)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if self._signals:
                if self.timeout:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, _handler(self._alarm))
                if self._int is not signal.SIG_IGN:
                    signal.signal(signal.SIGINT, _handler(self._int))
        finally:
            os._exit = self._exit


def _raise_exit(status: int = 0) -> None:
    raise ProcessExit(status)


def _handler(previous):
    """A handler to restore: ``None`` (not set from Python) restores the default."""
    return signal.SIG_DFL if previous is None else previous


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
