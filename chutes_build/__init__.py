"""chutes-build: define, build and ship chutes as one content-addressed build graph.

The public face is the definitions (the same names and methods as the
``chutes`` SDK), the errors and the warnings. Importing this package stays cheap: no
networkx, trio or httpx, since the same classes are imported inside built
images.
"""

from ._chute import Chute, ChutePack, Cord, Hook, Job
from ._errors import (
    BuildError,
    CacheError,
    ChutesBuildError,
    DefinitionError,
    DeployError,
    DuplicatePath,
    GraphError,
    InvalidPath,
    LoadError,
    WorkspaceError,
)
from ._image import Image
from ._node_selector import GPUS, NodeSelector
from ._version import __version__
from ._warnings import ChutesBuildWarning, DefinitionWarning, warn

__all__ = [
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
    "GPUS",
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
