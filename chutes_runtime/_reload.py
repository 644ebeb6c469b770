"""Dev-mode code reload: new code served without restarting the server.

In dev mode uvicorn serves an :class:`AppSwitch`: each request is handed to the
current :class:`~._app.RuntimeApp`, read once when the request starts, so a request
in flight finishes on the app (and code) it started on while the next one goes to a
new app. ``POST /_chutes_build/reload`` (answered to 127.0.0.1 only, and absent in
production mode and in a job instance) carries the changed files as JSON
``{"files": [{"path": "rel/path.py", "data": "<base64>"}]}``; the reload

1. writes them under the chute's code root (``_codefiles``: paths that escape it are
   refused before anything is written; unchanged files are not rewritten);
2. forgets the workspace-local modules and imports the chute file again, in a thread
   of its own so the loop keeps serving (bounded by ``Settings.reload_timeout_s``);
3. builds the new app and runs its startup hooks, then swaps it in (one assignment);
   the old app runs its shutdown hooks once its last request has finished.

A failed step (a path refused, a syntax error, an exception, a bad definition, a
failed startup hook) leaves the old app serving and the old modules in place, and the
answer carries the error with its file (relative to the code root) and line. Answers:
200 swapped, 400 bad request or refused path, 403 not from 127.0.0.1, 409 a previous
import still running, 422 the new code failed, 500 a file could not be written,
504 the import ran past its time limit (with the line it was at).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any

import msgspec

from chutes_build.core import ChutesBuildError

from ._app import RuntimeApp, serve_lifespan
from ._codefiles import (
    CodeFile,
    PathRefused,
    WriteFailed,
    forget_local_modules,
    fresh_bytecode,
    restore_modules,
    write_files,
)
from ._http import BodyTooLarge, ClientGone, read_body, send_json
from ._loader import load_target
from ._settings import Settings

__all__ = ["RELOAD_PATH", "AppSwitch", "ReloadRequest", "Reloader"]

log = logging.getLogger("chutes_runtime")

RELOAD_PATH = "/_chutes_build/reload"
_LOOPBACK = ("127.0.0.1", "::1")


class ReloadRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The body of a reload: the changed files (none: re-import what is on disk)."""

    files: list[CodeFile] = msgspec.field(default_factory=list)


class _Generation:
    """One app with the count of requests it is serving."""

    __slots__ = ("active", "app", "idle", "number")

    def __init__(self, app: RuntimeApp, number: int) -> None:
        self.app, self.number, self.active = app, number, 0
        self.idle = asyncio.Event()


class AppSwitch:
    """The ASGI app uvicorn serves in dev mode: requests go to the current app."""

    def __init__(self, app: RuntimeApp, settings: Settings, root: str) -> None:
        self.current = _Generation(app, 1)
        self.reloader = Reloader(self, settings, root)
        self._retiring: set[asyncio.Task] = set()

    @property
    def app(self) -> RuntimeApp:
        return self.current.app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"] == RELOAD_PATH:
                await self.reloader.handle(scope, receive, send)
                return
            generation = self.current
            generation.active += 1
            try:
                await generation.app(scope, receive, send)
            finally:
                generation.active -= 1
                if not generation.active:
                    generation.idle.set()
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        await serve_lifespan(receive, send, self.current.app.startup, self._shutdown)

    async def _shutdown(self) -> None:
        """Cancel the retiring generations, then run the current app's shutdown hooks."""
        retiring = list(self._retiring)
        for task in retiring:
            task.cancel()
        await asyncio.gather(*retiring, return_exceptions=True)
        await self.current.app.shutdown()

    def swap(self, app: RuntimeApp) -> int:
        """Serve ``app`` from the next request on; the old one retires when idle."""
        old = self.current
        self.current = _Generation(app, old.number + 1)
        task = asyncio.ensure_future(self._retire(old))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)
        return self.current.number

    async def _retire(self, generation: _Generation) -> None:
        try:
            while generation.active:
                generation.idle.clear()
                await generation.idle.wait()
        finally:
            await generation.app.shutdown()


class _Outcome(Exception):
    """A reload that stops with this HTTP status and error."""

    def __init__(self, status: int, error: dict) -> None:
        super().__init__(error["message"])
        self.status, self.error = status, error


class Reloader:
    """Answers ``POST /_chutes_build/reload`` for one :class:`AppSwitch`."""

    def __init__(self, switch: AppSwitch, settings: Settings, root: str) -> None:
        self.switch, self.settings, self.root = switch, settings, root
        self._lock: asyncio.Lock | None = None
        self._thread: threading.Thread | None = None

    async def handle(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["method"] != "POST":
            await send_json(send, 405, {"detail": "Method Not Allowed"})
            return
        client = scope.get("client")
        if client is None or client[0] not in _LOOPBACK:
            await send_json(send, 403, {"detail": "code reload is answered to 127.0.0.1 only"})
            return
        try:
            body = await read_body(scope, receive, self.settings.max_body_bytes)
            request = msgspec.json.decode(body or b"{}", type=ReloadRequest)
        except BodyTooLarge:
            await send_json(send, 413, {"detail": "reload body too large"})
            return
        except ClientGone:
            return
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            detail = f'malformed reload body: {exc} (send {{"files": [{{"path", "data"}}]}})'
            await send_json(send, 400, {"detail": detail})
            return
        status, answer = await self.reload(request.files)
        await send_json(send, status, answer)

    async def reload(self, files: list[CodeFile]) -> tuple[int, dict]:
        """Write ``files``, import the chute again and swap it in: ``(status, answer)``."""
        started = time.monotonic()
        self._lock = self._lock or asyncio.Lock()
        answer: dict[str, Any] = {
            "ok": False, "generation": self.switch.current.number,
            "chute": self.switch.app.chute.name, "written": [], "unchanged": [], "error": None,
        }  # fmt: skip
        async with self._lock:
            try:
                app = await self._new_app(files, answer)
            except _Outcome as outcome:
                log.warning("reload failed, the previous code serves on: %s", outcome.error["text"])
                answer.update(error=outcome.error, seconds=round(time.monotonic() - started, 4))
                return outcome.status, answer
            answer.update(ok=True, chute=app.chute.name, generation=self.switch.swap(app))
        answer["seconds"] = round(time.monotonic() - started, 4)
        log.info("reloaded %s: generation %d", app.chute.name, answer["generation"])
        return 200, answer

    async def _new_app(self, files: list[CodeFile], answer: dict) -> RuntimeApp:
        if self._thread is not None and self._thread.is_alive():
            message = "the previous reload's import is still running"
            where = _where(self._thread, self.root)
            raise _Outcome(409, _error(message + where, None, None, "wait, or restart the chute"))
        module, chute, saved = await self._import(files, answer)
        app = None
        try:
            app = self._build(chute, module)
            await app.startup()
        except Exception as exc:
            restore_modules(saved, self.root)
            if app is not None:
                app.deadlines.stop()
                app.pool.shutdown(wait=False, cancel_futures=True)
            doing = "starting the new code" if app is not None else "building the new app"
            raise _Outcome(422, located(exc, self.root, doing)) from None
        return app

    async def _import(self, files: list[CodeFile], answer: dict) -> tuple[Any, Any, dict]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        root, target = self.root, self.settings.target

        def work() -> tuple:
            written, unchanged = write_files(root, files)
            answer.update(written=written, unchanged=unchanged)
            saved = forget_local_modules(root)
            importlib.invalidate_caches()
            try:
                with fresh_bytecode():
                    module, chute = load_target(target)
            except BaseException:
                restore_modules(saved, root)
                raise
            return module, chute, saved

        def run() -> None:
            try:
                outcome, error = work(), None
            except BaseException as exc:  # noqa: BLE001 - handed to the loop as it is
                outcome, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, error, root)
            except RuntimeError:  # the server stopped meanwhile: its loop is closed
                pass

        self._thread = threading.Thread(target=run, name="chute-reload", daemon=True)
        self._thread.start()
        try:
            return await asyncio.wait_for(future, self.settings.reload_timeout_s)
        except TimeoutError:
            seconds, where = self.settings.reload_timeout_s, _where(self._thread, root)
            message = f"importing the new code ran past {seconds:g} s{where}"
            fix = "end the loop or the wait at that line; the previous code keeps serving"
            raise _Outcome(504, _error(message, None, None, fix)) from None
        except PathRefused as exc:
            fix = f"send paths relative to the chute's code root ({root})"
            error = _error(f"refused path: {exc.reason}", exc.path, None, fix)
            raise _Outcome(400, error) from None
        except WriteFailed as exc:
            fix = "make the code folder writable in the container, or reload without files"
            raise _Outcome(500, _error(str(exc.strerror), exc.path, None, fix)) from None
        except Exception as exc:
            raise _Outcome(422, located(exc, root, "importing the new code")) from None

    def _build(self, chute: Any, module: Any) -> RuntimeApp:
        old = self.switch.app
        app = RuntimeApp(chute, module, self.settings, gate=None, gpu=old.gpu)
        for route, handler in old.internal.items():  # routes added after start (/_shutdown)
            if route not in app.internal:
                app.internal[route] = handler
                app.known_paths.add(route[1])
        return app


def _settle(future: asyncio.Future, outcome: Any, error: BaseException | None, root: str) -> None:
    if future.done():  # timed out: a late success must not leave the new modules behind
        if outcome is not None:
            restore_modules(outcome[2], root)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome)


def _inside(file: str, root: str) -> bool:
    return os.path.realpath(file).startswith(root + os.sep)


def _shown(file: str | None, root: str) -> str | None:
    """``file`` relative to ``root`` when inside it (as it is otherwise)."""
    if file is None or not _inside(file, root):
        return file
    return os.path.relpath(os.path.realpath(file), root).replace(os.sep, "/")


def _error(message: str, file: str | None, line: int | None, fix: str | None) -> dict:
    where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
    text = f"{where}{message}" + (f"\n  fix: {fix}" if fix else "")
    return {"message": message, "file": file, "line": line, "fix": fix, "text": text}


def _user_line(tb: Any, root: str) -> tuple[str | None, int | None]:
    """The innermost frame of ``tb`` in a file under ``root``."""
    found: tuple[str | None, int | None] = (None, None)
    for frame, line in traceback.walk_tb(tb):
        if _inside(frame.f_code.co_filename, root):
            found = (frame.f_code.co_filename, line)
    return found


def located(exc: BaseException, root: str, doing: str) -> dict:
    """The error dict of a failed reload step, its file relative to ``root``."""
    if isinstance(exc, ChutesBuildError):
        message = exc.message + (f" (at {exc.field})" if exc.field else "")
        return _error(message, _shown(exc.file, root), exc.line, exc.fix)
    file, line = _user_line(exc.__traceback__, root)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    fix = "fix the error at that line; the previous code keeps serving"
    return _error(f"{doing} raised {detail}", _shown(file, root), line, fix)


def _where(thread: threading.Thread, root: str) -> str:
    """`` (at FILE:LINE)``: where ``thread`` runs in the chute's code, when it does."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if _inside(frame.f_code.co_filename, root):
            return f" (at {_shown(frame.f_code.co_filename, root)}:{frame.f_lineno})"
        frame = frame.f_back
    return ""
