"""Running the app on uvicorn: load the chute, (production) launch handshake, serve, stop.

:meth:`Runtime.run` serves on a :class:`~._loop.RuntimeLoop` (accept backs off when
file descriptors run out) with a :class:`~._watchdog.LoopWatchdog` watching it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

import uvicorn

from ._app import RuntimeApp
from ._h1 import H1Protocol
from ._jobs import job_for, start_job
from ._loader import code_root, load_target
from ._loop import RuntimeLoop
from ._reload import AppSwitch
from ._settings import Settings
from ._watchdog import LoopWatchdog

__all__ = ["Runtime"]

log = logging.getLogger("chutes_runtime")


class Runtime:
    """One server. ``run()`` runs it on its own event loop (or ``await serve()`` on the
    running one); ``stop()`` (any thread) ends it.

    ``gpu`` replaces the GraVal part in production mode (tests pass a fake);
    ``loaded`` is an already-imported ``(module, chute)`` pair. In dev mode (not in a
    job instance) an :class:`~._reload.AppSwitch` serves the app, so a code reload can
    swap it (``switch``; ``app`` is always the current one).
    """

    def __init__(
        self, settings: Settings, gpu: Any = None, loaded: tuple[Any, Any] | None = None
    ) -> None:
        self.settings, self.gpu, self.loaded = settings, gpu, loaded
        self.server: uvicorn.Server | None = None
        self.switch: AppSwitch | None = None
        self._app: RuntimeApp | None = None
        self.started = threading.Event()
        self.production: Any = None
        self.job: Any = None  # the JobRun of a job instance (see _jobs)

    @property
    def app(self) -> RuntimeApp | None:
        return self.switch.app if self.switch is not None else self._app

    def run(self) -> bool:
        """Serve on a new :class:`RuntimeLoop` until stopped; False when start-up failed."""
        interval = self.settings.warn_interval_s
        with asyncio.Runner(loop_factory=lambda: RuntimeLoop(interval)) as runner:
            return runner.run(self.serve())

    async def serve(self) -> bool:
        """Serve until stopped; False when start-up failed."""
        settings, gate = self.settings, None
        if not settings.dev:
            from ._production import Production

            self.production = await Production.launch(settings, self.gpu)
            self.gpu = self.production.gpu
        module, chute = self.loaded or load_target(settings.target)
        if self.production is not None:
            gate = self.production.gate
        app = self._app = RuntimeApp(chute, module, settings, gate=gate, gpu=self.gpu)
        self.job = job_for(app, settings, getattr(self.production, "launch_response", None))
        if settings.dev and self.job is None:
            self.switch = AppSwitch(app, settings, code_root(settings.target))
        self.server = uvicorn.Server(_config(self.switch or app, settings))
        sockets = [_reuse_port_socket(settings)] if settings.reuse_port else None
        task = asyncio.ensure_future(self.server.serve(sockets=sockets))
        while not self.server.started and not task.done():
            await asyncio.sleep(0.02)
        watchdog = self._watch() if self.server.started else None
        try:
            if self.server.started:
                self.started.set()
                if self.production is not None:
                    await self.production.activate()
                start_job(self)
            await task
        finally:
            if watchdog is not None:
                watchdog.stop()
        return self.server.started

    def _watch(self) -> LoopWatchdog | None:
        """Watch the loop once serving: importing the chute and its start-up hooks may
        block it for long, before any request can be waiting."""
        if self.settings.loop_lag_warn_s <= 0:
            return None
        watchdog = LoopWatchdog(asyncio.get_running_loop(), self.settings.loop_lag_warn_s,
                                self.settings.warn_interval_s)  # fmt: skip
        watchdog.start()
        return watchdog

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True


def _reuse_port_socket(settings: Settings) -> socket.socket:
    """The listening socket, bound with ``SO_REUSEPORT``: Linux lets a second server of
    the same user bind the port too, and spreads new connections over both."""
    family, kind, proto, _, address = socket.getaddrinfo(
        settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:  # as uvicorn words it: the local target's health fix reads it
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        log.error("error while attempting to bind on address %s: %s", address, reason)
        raise SystemExit(1) from None
    sock.set_inheritable(True)
    return sock


def _config(app: RuntimeApp | AppSwitch, settings: Settings) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        http=H1Protocol if settings.http == "h1" else settings.http,
        loop="asyncio",
        timeout_keep_alive=75,
        proxy_headers=False,  # the client address must be the peer's (localhost bypass, IP pinning)
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    config.body_timeout_s = settings.body_timeout_s  # read by H1Protocol
    return config
