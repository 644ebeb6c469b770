"""``RunOptions``: how one run of ``build`` or ``up`` goes, read once at the entry point.

The CLI parses its flags into this one frozen struct and hands it to the engine;
nothing below the CLI reads an options dict. ``dry_run`` plans and reports what would
run without building, starting, recording or pushing anything; ``force`` runs every
node of the selected chutes even when its result is cached; ``no_cache`` does that
too and builds without BuildKit's own cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from ..core import BuildError

__all__ = ["DryRunStore", "RunOptions", "Session", "check_runtime", "runtime_production"]


class RunOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The options of a run (``build``: ``deploy=False``; ``up``: ``deploy=True``)."""

    deploy: bool = False
    target: str = "local"  # local | chutes
    jobs: int = 4
    keep_going: bool = False
    network: str | None = None  # none | host | None (the engine's default)
    builder: str | None = None
    registry: str | None = None
    builders: str | None = None
    accept_fee: bool = False
    public: bool = False
    runtime: str | None = None  # dev | production | None (the workspace's setting)
    warm: bool = False
    full: bool = False  # every chute file was compiled: containers of gone chutes go
    dry_run: bool = False
    force: bool = False
    no_cache: bool = False

    @property
    def rerun(self) -> bool:
        """Whether cached results are ignored (``--force`` or ``--no-cache``)."""
        return self.force or self.no_cache


class DryRunStore:
    """A store for ``--dry-run``: reads go to ``store``, writes are dropped, so planning
    a run records nothing (no result, port assignment, log or record)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def put_action(self, key: str, result: Any) -> None:
        pass

    def save_struct(self, kind: str, name: str, value: Any) -> None:
        pass

    def put_record(self, namespace: str, name: str, payload: bytes, durable: bool = True) -> None:
        pass

    def put_blob(self, data: bytes) -> str:
        from ..cache import blob_digest

        return blob_digest(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@dataclass
class Session:
    """A compiled workspace: what every run reads."""

    workspace: Any
    store: Any
    graph: Any


def check_runtime(option: str | None) -> None:
    """``--runtime`` is dev, production or not given."""
    if option not in (None, "dev", "production"):
        raise BuildError(f"unknown runtime {option!r}", fix="use --runtime dev or production")


def runtime_production(option: str | None, workspace: Any) -> bool:
    """Whether the runtime layer carries production mode: ``--runtime``, else the
    workspace's ``runtime`` setting."""
    check_runtime(option)
    return workspace.config.runtime_production if option is None else option == "production"
