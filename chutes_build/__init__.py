"""chutes-build: define, build and ship chutes as one content-addressed build graph.

The public face is the definitions (the same names and methods as the
``chutes`` SDK), the errors and the warnings. Importing this package stays cheap: no
networkx, trio or httpx, since the same classes are imported inside built
images.
"""

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
