"""Finding a workspace's chute files and importing each one in isolation.

``find_workspace`` reads ``[tool.chutes-build]``; ``discover`` lists the chute
files; ``load_file``/``load_paths`` import them under the SDK aliases with a
timeout and a guard; ``import_isolated`` runs those imports in worker processes
and returns plain snapshots (``FileSnapshot``) that the graph compiles. The
secret-file rules say what must never enter a build context.
"""

from ._discover import ScanCache, using_scans
from ._isolate import Outcome, import_isolated
from ._secret_files import secret_reason
from ._select import (
    Selection,
    matches,
    missing_path_error,
    no_match_error,
    split_arguments,
)
from ._snapshot import ChuteSnapshot, FileSnapshot, ImageSnapshot, plain, snapshot_file
from ._workspace import (
    LoadedFile,
    Workspace,
    discover,
    find_workspace,
    import_timeout,
    load_file,
    load_paths,
)

__all__ = [
    "ChuteSnapshot",
    "FileSnapshot",
    "ImageSnapshot",
    "LoadedFile",
    "Outcome",
    "ScanCache",
    "Selection",
    "Workspace",
    "discover",
    "find_workspace",
    "import_isolated",
    "import_timeout",
    "load_file",
    "load_paths",
    "matches",
    "missing_path_error",
    "no_match_error",
    "plain",
    "secret_reason",
    "snapshot_file",
    "split_arguments",
    "using_scans",
]
