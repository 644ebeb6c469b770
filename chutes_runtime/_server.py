"""Running the app on uvicorn: load the chute, (production) launch handshake, serve, stop."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import uvicorn

from ._app import RuntimeApp
from ._h1 import H1Protocol
from ._jobs import job_for, start_job
from ._loader import load_target
from ._settings import Settings

__all__ = ["Runtime"]

log = logging.getLogger("chutes_runtime")


class Runtime:
    """One server. ``await serve()`` runs it; ``stop()`` (any thread) ends it.

    ``gpu`` replaces the GraVal part in production mode (tests pass a fake);
    ``loaded`` is an already-imported ``(module, chute)`` pair.
    """

    def __init__(
        self, settings: Settings, gpu: Any = None, loaded: tuple[Any, Any] | None = None
    ) -> None:
        self.settings, self.gpu, self.loaded = settings, gpu, loaded
        self.server: uvicorn.Server | None = None
        self.app: RuntimeApp | None = None
        self.started = threading.Event()
        self.production: Any = None
        self.job: Any = None  # the JobRun of a job instance (see _jobs)

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
        self.app = RuntimeApp(chute, module, settings, gate=gate, gpu=self.gpu)
        self.job = job_for(self.app, settings, getattr(self.production, "launch_response", None))
        self.server = uvicorn.Server(_config(self.app, settings))
        task = asyncio.ensure_future(self.server.serve())
        while not self.server.started and not task.done():
            await asyncio.sleep(0.02)
        if self.server.started:
            self.started.set()
            if self.production is not None:
                await self.production.activate()
            start_job(self)
        await task
        return self.server.started

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True


def _config(app: RuntimeApp, settings: Settings) -> uvicorn.Config:
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
