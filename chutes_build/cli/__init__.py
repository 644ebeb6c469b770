"""The ``chutes-build`` command line: parse, call the library, render.

Each command group lives in its own module with a ``register(app)``
function; :func:`main` turns every :class:`ChutesBuildError` into a clean
message and a non-zero exit (``--debug`` shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from .._errors import ChutesBuildError
from .._version import __version__

__all__ = ["app", "main"]

#: Modules that add commands; each defines ``register(app)``.
COMMAND_MODULES = ("_basic", "_graph", "_run", "_build", "_platform")

app = typer.Typer(
    name="chutes-build",
    help="Define, build and ship chutes: one content-addressed build graph for a whole monorepo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chutes-build {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks for errors.", envvar="CHUTES_BUILD_DEBUG"
    ),
) -> None:
    if debug:
        os.environ["CHUTES_BUILD_DEBUG"] = "1"


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_name}":
            raise
        continue
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    try:
        fault = os.environ.get("CHUTES_BUILD_FAULT")
        seen = os.environ.get("CHUTES_BUILD_FAULT_SEEN")
        if fault or seen:  # a testing aid: see cache/_faults.py
            from ..cache import _faults

            _faults.arm(fault, seen)
        # With standalone_mode=False click returns (not raises) the code of a
        # ``typer.Exit`` raised inside a command.
        result = app(args=argv, standalone_mode=False)
        if isinstance(result, int) and not isinstance(result, bool):
            return result
    except ChutesBuildError as exc:
        if os.environ.get("CHUTES_BUILD_DEBUG"):
            raise
        typer.secho(f"error: {exc}", fg="red", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.secho("aborted", fg="red", err=True)
        return 130
    except KeyboardInterrupt:
        typer.secho("interrupted", fg="red", err=True)
        return 130
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
