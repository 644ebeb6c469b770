"""The command tree and the run of one command line.

Each command group lives in its own module with a ``register(app)``
function; :func:`run` turns every :class:`ChutesBuildError` into a clean
message and a non-zero exit (``--debug`` shows the traceback).

:func:`run` imports only the module of the command it runs (``plan`` needs
neither the platform client nor the build pipeline's imports); help, a
mistyped command and shell completion see every command. ``app`` is the
whole command tree.
"""

from __future__ import annotations

import importlib
import os

import typer

from ..core import ChutesBuildError, __version__

__all__ = ["run"]  # and ``app``, the whole command tree (made on first use)

#: Modules that add commands; each defines ``register(app)``.
_COMMAND_MODULES = ("_basic", "_graph", "_run", "_build", "_platform", "_sdk_cmds",
                   "_account_cmds", "_history_cmds", "_ops", "_logs")  # fmt: skip

#: The commands (and command groups) each module registers, so that one command's
#: module is all a run imports (a test checks this against what they register).
_COMMANDS = {
    "_basic": ("ls", "dockerfile"),
    "_graph": ("graph", "plan", "why", "cache"),
    "_run": ("run",),
    "_build": ("build", "up", "down"),
    "_platform": ("share", "register", "warmup", "keys"),
    "_sdk_cmds": ("chutes", "images", "secrets"),
    "_account_cmds": ("startup-logs", "report", "login", "transfer-balance"),
    "_history_cmds": ("history", "rollback"),
    "_ops": ("ps", "status", "clean"),
    "_logs": ("logs",),
}
_MODULE_OF = {name: module for module, names in _COMMANDS.items() for name in names}

_app = typer.Typer(
    name="chutes-build",
    help="Define, build and ship chutes: one content-addressed build graph for a whole monorepo.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chutes-build {__version__}")
        raise typer.Exit()


@_app.callback()
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


_registered: set[str] = set()


def _register(names) -> typer.Typer:
    """The command tree with the commands of modules ``names`` registered (each once)."""
    for name in names:
        if name in _registered:
            continue
        _registered.add(name)
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        module.register(_app)
    return _app


def _app_for(argv: list[str]) -> typer.Typer:
    """The command tree that running ``argv`` needs: its command's module only, or
    every module for help, completion, a mistyped command or no command at all."""
    words = [word for word in argv if word not in ("--debug",)]
    module = _MODULE_OF.get(words[0]) if words else None
    completing = any(key.endswith("_COMPLETE") for key in os.environ)
    if module is None or completing or "--help" in words[:1]:
        return _register(_COMMAND_MODULES)
    return _register([module])


def __getattr__(name: str):
    if name == "app":
        return _register(_COMMAND_MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The command-line parser's own errors (typer vendors click from 0.28 on, so the class
#: is found through typer's public exceptions rather than imported from click).
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _usage_error(exc: Exception, argv: list[str]) -> None:
    """``error: <what>`` and ``fix: <command> --help``, in the style of every other error."""
    message = exc.format_message()
    if not message:  # a group called without its command: its help was shown
        return
    param = getattr(exc, "param", None)
    if type(exc).__name__ == "MissingParameter" and param is not None:
        if getattr(param, "param_type_name", "") == "option":
            message = f"missing option {'/'.join(param.opts)}"
        else:
            label = param.human_readable_name
            message = f"missing argument {label.upper() if label == param.name else label}"
    typer.secho(f"error: {message[:1].lower()}{message[1:]}", fg="red", err=True)
    typer.echo(f"  fix: see `{_command_path(argv)} --help` for its arguments and options", err=True)


def _command_path(argv: list[str]) -> str:
    """``chutes-build cache gc`` for ``["cache", "gc", "--max-size"]``: the deepest command
    that the words of ``argv`` name, found in the command tree (an option's parse error
    carries no context of its own)."""
    import typer.main

    command, path = typer.main.get_command(_register(_COMMAND_MODULES)), ["chutes-build"]
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command, path = sub, [*path, word]
    return " ".join(path)


def run(args: list[str]) -> int:
    """Run the command line ``args``; the exit code."""
    try:
        fault = os.environ.get("CHUTES_BUILD_FAULT")
        seen = os.environ.get("CHUTES_BUILD_FAULT_SEEN")
        if fault or seen:  # a testing aid: see cache/faults.py
            from ..cache import faults as _faults

            _faults.arm(fault, seen)
        # With standalone_mode=False click returns (not raises) the code of a
        # ``typer.Exit`` raised inside a command.
        result = _app_for(args)(args=args, prog_name="chutes-build", standalone_mode=False)
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
    except _CLICK_ERROR as exc:  # a usage mistake: a short message, never a traceback
        _usage_error(exc, args)
        return exc.exit_code
    return 0
