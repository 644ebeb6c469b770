"""chutes-build: define, build and ship chutes as one content-addressed build graph.

The public face is the definitions (the same names and methods as the
``chutes`` SDK), the errors and the warnings. Importing this package stays cheap: no
networkx, trio or httpx, since the same classes are imported inside built
images; and each name is imported on first use (PEP 562 ``__getattr__``), so the
console script's no-op replay (``noop``) loads nothing else.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing's own, which type checkers read the same way, costs 2 ms
if TYPE_CHECKING:
    from .core import (
        BuildError,
        CacheError,
        ChutesBuildError,
        ChutesBuildWarning,
        DefinitionError,
        DefinitionWarning,
        DeployError,
        DuplicatePath,
        GraphError,
        InvalidPath,
        LoadError,
        WorkspaceError,
        __version__,
        warn,
    )
    from .definitions import GPUS, Chute, ChutePack, Cord, Hook, Image, Job, NodeSelector

_DEFINITIONS = frozenset({"GPUS", "Chute", "ChutePack", "Cord", "Hook", "Image", "Job",
                          "NodeSelector"})  # fmt: skip

__all__ = [
    "GPUS",
    "BuildError",
    "CacheError",
    "Chute",
    "ChutePack",
    "ChutesBuildError",
    "ChutesBuildWarning",
    "Cord",
    "DefinitionError",
    "DefinitionWarning",
    "DeployError",
    "DuplicatePath",
    "GraphError",
    "Hook",
    "Image",
    "InvalidPath",
    "Job",
    "LoadError",
    "NodeSelector",
    "WorkspaceError",
    "__version__",
    "warn",
]


#: The subpackages, imported on first use like the names.
_PACKAGES = frozenset({"cache", "cli", "compat", "core", "definitions", "engine", "graph",
                       "noop", "platform", "workspace"})  # fmt: skip


def __getattr__(name: str) -> object:
    if name in _PACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(".definitions" if name in _DEFINITIONS else ".core", __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
