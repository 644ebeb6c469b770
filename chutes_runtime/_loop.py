"""The runtime's event loop: accept() that backs off when file descriptors run out.

asyncio's selector loop, on ``EMFILE``/``ENFILE``/``ENOBUFS``/``ENOMEM`` from
``accept()``, logs a traceback, pauses the listening socket for a second and schedules
its resumption, and then (CPython 3.11) goes on calling ``accept()`` for the rest of
its ``backlog`` batch: one full batch of tracebacks and timers per burst. With
``ulimit -n 256`` and 2,000 clients that was 84,273 tracebacks in 40 s and a server
too busy logging to answer.

:class:`RuntimeLoop` stops the batch at the first such error, pauses the socket for a
delay that doubles from 50 ms to 1 s while the errors go on (and resets after an
accept succeeds), and logs one line per interval with the limit and the count of
errors held back. Everything else is the stock loop.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource

from ._watchdog import Throttle

__all__ = ["RuntimeLoop"]

log = logging.getLogger("chutes_runtime")

_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_FIRST_DELAY, _MAX_DELAY = 0.05, 1.0


def _fd_limit() -> str:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return "unlimited" if soft == resource.RLIM_INFINITY else str(soft)


class RuntimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose accept backs off on resource errors (see the module)."""

    def __init__(self, warn_interval: float = 10.0) -> None:
        super().__init__()
        self._accept_delay = _FIRST_DELAY
        self._accept_throttle = Throttle(warn_interval)

    def _accept_connection(
        self, protocol_factory, sock, sslcontext=None, server=None, backlog=100, *rest
    ) -> None:
        for _ in range(backlog):
            try:
                conn, addr = sock.accept()
                conn.setblocking(False)
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                self._accept_failed(exc, protocol_factory, sock, sslcontext, server, backlog, rest)
                return
            self._accept_delay = _FIRST_DELAY
            self.create_task(
                self._accept_connection2(
                    protocol_factory, conn, {"peername": addr}, sslcontext, server, *rest
                )
            )

    def _accept_failed(self, exc, protocol_factory, sock, sslcontext, server, backlog, rest):
        """Pause the listening socket, resume it later, and say so once per interval."""
        self._remove_reader(sock.fileno())
        delay, self._accept_delay = self._accept_delay, min(self._accept_delay * 2, _MAX_DELAY)
        self.call_later(
            delay, self._start_serving, protocol_factory, sock, sslcontext, server, backlog, *rest
        )
        if self._accept_throttle.ready():
            held = self._accept_throttle.take_held()
            more = f"; {held} more since the last report" if held else ""
            log.warning(
                "cannot accept connections: %s (open-file limit %s): new connections wait "
                "in the backlog, accepting again in %.2f s%s; raise the limit (ulimit -n) "
                "or open fewer connections",
                exc.strerror or exc, _fd_limit(), delay, more,
            )  # fmt: skip
