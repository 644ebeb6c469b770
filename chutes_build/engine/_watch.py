"""The dev loop: after each batch of saves, reload code in place or rebuild what changed.

:class:`WatchLoop` keeps what each chute serves (:class:`Served`: its deploy key, image
key and URL). On a batch of saved files it compiles the workspace again (the evaluation
cache re-imports only the files that changed) and compares each chute with what it
serves (:func:`classify`):

- **code**: same image key, another deploy key. The running container is told to
  re-import its code (:func:`reload_code`: the workspace is mounted, so the saved file is
  already there); same container, new code. A reload whose new code fails keeps the old
  code serving and reports ``file:line``. When the runtime cannot reload (not reachable,
  no reload endpoint, or a startup hook of the new code failed, e.g. one that binds a
  port the old code holds) the chute is restarted instead.
- **image** (or a chute new to the workspace): only its chute file is brought ``up``,
  which builds the image while the old container serves and starts the new one once
  built.
- a file that fails to load (syntax error, bad definition) is **broken**: its chutes
  keep serving the last good version and the error is reported with its file and line;
  a failed build does the same.

The loop takes its collaborators as :class:`WatchSteps` (compile, "bring these chute
files up", reload, and where events go), so it runs under any pipeline that can bring
chute files up, and unit tests drive it with fakes. Every outcome is an event
(:data:`WatchEvent`), a tagged msgspec struct the CLI renders or prints as JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
import trio

from ..core import ChutesBuildError, DeployError
from ._reload import ReloadResult

__all__ = [
    "Broken",
    "Change",
    "ChuteView",
    "CodeReloaded",
    "Failed",
    "ReloadFailed",
    "Served",
    "Updated",
    "WatchEvent",
    "WatchLoop",
    "WatchSteps",
    "chute_views",
    "classify",
]

#: The runtime's message prefix when the new code imported but its startup failed.
_STARTUP_FAILED = "starting the new code"
#: Row states of an ``up`` after which the chute serves what was compiled.
_SERVING = ("started", "restarted", "unchanged")


class ChuteView(msgspec.Struct, frozen=True, kw_only=True):
    """One chute of a compiled graph, as the dev loop compares it."""

    slot: str
    chute: str
    file: str
    deploy: str
    image: str | None


class Served(msgspec.Struct, frozen=True, kw_only=True):
    """What a chute serves now: the view it was started or reloaded with, and where."""

    view: ChuteView
    url: str


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """How one chute differs from what it serves."""

    kind: Literal["code", "image", "added", "removed"]
    slot: str
    new: ChuteView | None = None


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="event"):
    """An outcome of the loop; ``event`` names its kind in JSON."""


class CodeReloaded(_Event, tag="reloaded"):
    chute: str
    url: str
    generation: int
    seconds: float


class ReloadFailed(_Event, tag="reload-failed"):
    """The new code failed; the old code serves on. ``text`` starts with file:line."""

    chute: str
    text: str


class Updated(_Event, tag="updated"):
    """An ``up`` of some chute files ended; ``rows`` are its chute rows."""

    files: tuple[str, ...]
    reason: str
    rows: tuple[dict[str, Any], ...] = ()


class Failed(_Event, tag="failed"):
    """A build or start failed; the chutes it concerned keep their last good version."""

    chutes: tuple[str, ...]
    text: str


class Broken(_Event, tag="broken"):
    """A chute file failed to load; ``text`` is the error with its file and line."""

    file: str
    text: str


WatchEvent = CodeReloaded | ReloadFailed | Updated | Failed | Broken


@dataclass
class WatchSteps:
    """What the loop calls: ``compile()`` returns a fresh graph; ``up(files)`` brings those
    chute files up and returns its summary (``chutes`` rows, ``failed`` entries);
    ``reload(url)`` reloads the code served at ``url``; ``emit`` receives each event."""

    compile: Callable[[], Awaitable[Any]]
    up: Callable[[list[str]], Awaitable[dict[str, Any]]]
    reload: Callable[[str], Awaitable[ReloadResult]]
    emit: Callable[[WatchEvent], None]


def chute_views(graph) -> dict[str, ChuteView]:
    """``{slot: view}`` of every chute in ``graph``."""
    views = {}
    for key in graph.keys("deploy"):
        node = graph.node(key)
        slot = node.slot.removeprefix("deploy:")
        views[slot] = ChuteView(slot=slot, chute=node.chute, file=node.file, deploy=key,
                                image=node.image)  # fmt: skip
    return views


def classify(
    served: dict[str, Served], current: dict[str, ChuteView], broken: Iterable[str] = ()
) -> list[Change]:
    """The changes from ``served`` to ``current``; chutes of ``broken`` files are left out
    (they keep serving what they serve)."""
    broken = set(broken)
    changes = []
    for slot, view in sorted(current.items()):
        old = served.get(slot)
        if old is None:
            changes.append(Change(kind="added", slot=slot, new=view))
        elif old.view.image != view.image:
            changes.append(Change(kind="image", slot=slot, new=view))
        elif old.view.deploy != view.deploy:
            changes.append(Change(kind="code", slot=slot, new=view))
    for slot, old in sorted(served.items()):
        if slot not in current and old.view.file not in broken:
            changes.append(Change(kind="removed", slot=slot))
    return changes


def served_from(summary: dict[str, Any], views: dict[str, ChuteView]) -> dict[str, Served]:
    """What an ``up``'s rows say now serves, by slot (rows matched by deploy key)."""
    by_key = {view.deploy: view for view in views.values()}
    found = {}
    for row in summary.get("chutes", ()):
        view = by_key.get(row.get("key"))
        if view is not None and row.get("url") and row.get("state") in _SERVING:
            found[view.slot] = Served(view=view, url=row["url"])
    return found


def _failure_text(summary: dict[str, Any]) -> str:
    return "\n".join(f"{f['label']}: {f['error']}" for f in summary.get("failed", ()))


class WatchLoop:
    """Reacts to batches of saved files; see the module docstring."""

    def __init__(self, steps: WatchSteps, served: dict[str, Served] | None = None) -> None:
        self.steps = steps
        self.served: dict[str, Served] = dict(served or {})
        self.tried: dict[str, ChuteView] = {}  # the last view each chute was brought up with

    def start(self, summary: dict[str, Any], graph) -> None:
        """Take what the first ``up`` (of ``graph``) started as what serves."""
        views = chute_views(graph)
        self.tried.update(views)
        self.served.update(served_from(summary, views))

    async def on_batch(self) -> list[Change]:
        """Compile, classify, then reload or bring up what changed; the changes."""
        graph = await self.steps.compile()
        broken = {rel for rel, _error in graph.errors}
        for rel, error in graph.errors:
            self.steps.emit(Broken(file=rel, text=str(error)))
        current = chute_views(graph)
        changes = [c for c in classify(self.served, current, broken)
                   if c.kind != "added" or self.tried.get(c.slot) != c.new]  # fmt: skip
        restart = await self._reload_all([c for c in changes if c.kind == "code"])
        rebuild = [c for c in changes if c.kind in ("image", "added")]
        if rebuild or restart:
            await self._up(rebuild, restart, current)
        for change in changes:
            if change.kind == "removed":
                self.served.pop(change.slot, None)
        return changes

    async def _reload_all(self, changes: list[Change]) -> list[Change]:
        """Reload each chute's code at once; those that need a restart instead."""
        restart: list[Change] = []

        async def one(change: Change) -> None:
            if not await self._reload(change):
                restart.append(change)

        async with trio.open_nursery() as nursery:
            for change in changes:
                nursery.start_soon(one, change)
        return sorted(restart, key=lambda c: c.slot)

    async def _reload(self, change: Change) -> bool:
        """False when the chute must be restarted to serve its new code."""
        served, view = self.served[change.slot], change.new
        try:
            result = await self.steps.reload(served.url)
        except DeployError:
            return False
        if result.ok:
            self.served[change.slot] = Served(view=view, url=served.url)
            self.steps.emit(CodeReloaded(chute=view.chute, url=served.url,
                                         generation=result.generation,
                                         seconds=result.seconds))  # fmt: skip
            return True
        error = result.error
        if error is not None and error.message.startswith(_STARTUP_FAILED):
            return False
        text = error.text if error is not None else f"HTTP {result.status}"
        self.steps.emit(ReloadFailed(chute=view.chute, text=text))
        return True

    async def _up(self, rebuild: list[Change], restart: list[Change], current) -> None:
        files = sorted({c.new.file for c in [*rebuild, *restart]})
        reason = "image changed" if rebuild else "code reload not possible: restarted"
        try:
            summary = await self.steps.up(files)
        except ChutesBuildError as exc:
            summary = {"failed": [{"label": "up", "error": str(exc)}]}
        self.tried.update({slot: v for slot, v in current.items() if v.file in files})
        now = served_from(summary, current)
        self.served.update(now)
        self.steps.emit(Updated(files=tuple(files), reason=reason,
                                rows=tuple(summary.get("chutes", ()))))  # fmt: skip
        missed = sorted(current[c.slot].chute for c in [*rebuild, *restart] if c.slot not in now)
        if missed or summary.get("failed"):
            text = _failure_text(summary) or "the chute did not start"
            self.steps.emit(Failed(chutes=tuple(missed), text=text))
