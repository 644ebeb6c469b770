"""The ``chutes-build`` command line: parse, call the library, render.

The command tree and the run of a command line are in ``_app`` (each command
group in a module of its own, only the command's module imported); this module
is the console script's entry point, which imports nothing else before it has
asked the no-op record (``chutes_build.noop``) whether a ``build``, ``up`` or
``plan`` is answered already, and which records such a run when the settled
check answers it (a local ``plan``: when it ends well). ``app`` is the whole command tree.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script (``argv`` defaults to ``sys.argv[1:]``).

    Only the console script's own run (no ``argv`` given) is replayed or recorded:
    a caller that passes ``argv`` runs in a process of its own making."""
    if argv is not None:
        from ._app import run

        return run(argv)
    args = sys.argv[1:]
    from .. import noop

    try:
        if noop.replay(args):
            return 0
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    noop.start_recording(args)
    code = 1
    try:
        from ._app import run

        code = run(args)
    finally:
        noop.finish_recording(code)
    return code


def __getattr__(name: str) -> object:
    if not name.startswith("__"):
        app = importlib.import_module(f"{__name__}._app")
        if hasattr(app, name):
            return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
