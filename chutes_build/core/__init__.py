"""The base every other package stands on: the error tree, warnings and the version.

``ChutesBuildError`` is the root of every error a user can cause (see
``_errors.py`` for the tree); ``warn`` records what the platform accepts but is
probably a mistake, with file:line and fix. This package imports nothing else of
chutes-build and is shipped into images.
"""

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
    user_location,
)
from ._version import __version__
from ._warnings import ChutesBuildWarning, DefinitionWarning, collecting, note_error, warn

__all__ = [
    "BuildError",
    "CacheError",
    "ChutesBuildError",
    "ChutesBuildWarning",
    "DefinitionError",
    "DefinitionWarning",
    "DeployError",
    "DuplicatePath",
    "GraphError",
    "InvalidPath",
    "LoadError",
    "WorkspaceError",
    "__version__",
    "collecting",
    "note_error",
    "user_location",
    "warn",
]
