"""Where definitions are being evaluated: the workspace root and the execution context.

The workspace loader sets :data:`workspace_root` while it imports chute files,
so ``Image.add`` can refuse sources outside the workspace. Outside a load it is
``None`` and no boundary applies beyond the source folder's own checks.
"""

from __future__ import annotations

import os
from contextvars import ContextVar

from ..core import user_location

workspace_root: ContextVar[str | None] = ContextVar("chutes_build_workspace_root", default=None)


def is_remote() -> bool:
    """True inside a deployed instance (the SDK's ``CHUTES_EXECUTION_CONTEXT=REMOTE``).

    There the build context is gone, so ``add`` records its directive without
    checking that its files exist.
    """
    return os.environ.get("CHUTES_EXECUTION_CONTEXT") == "REMOTE"


def caller_folder() -> str:
    """The folder of the user's file making the current call, else the current folder.

    ``add()`` sources and logos are resolved relative to it.
    """
    file, _ = user_location()
    return os.path.dirname(os.path.abspath(file)) if file else os.getcwd()
