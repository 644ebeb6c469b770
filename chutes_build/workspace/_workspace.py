"""Finding a workspace's chute files and importing each one in isolation.

A workspace is the folder of the nearest ``pyproject.toml`` with a
``[tool.chutes-build]`` table. Each chute file is imported under a unique
module name with the SDK aliases active; local modules it imports are
tracked (so a cached evaluation can be invalidated when they change) and
never leak from one folder's ``helpers.py`` into another's. Each import is
guarded (``_guard``: ``os._exit`` trapped, a time limit); discovery lives in
``_discover``, and the evaluation imports in worker processes
(``chutes_build.workspace._isolate``).
"""

from __future__ import annotations

import builtins
import contextlib
import difflib
import hashlib
import importlib.util
import os
import sys
import tomllib
import traceback
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import msgspec

from ..compat import missing_package, sdk_aliases
from ..core import ChutesBuildError, DefinitionWarning, LoadError, WorkspaceError, collecting
from ..definitions import Chute, ChutePack, Image, workspace_root
from ._discover import DEFAULT_CHUTES, discover
from ._guard import ImportGuard, ImportTimeout, ProcessExit, exit_error, timeout_error

__all__ = [
    "LoadedFile",
    "Workspace",
    "WorkspaceConfig",
    "discover",
    "find_workspace",
    "import_timeout",
    "load_file",
    "load_paths",
]

_DAY = 86400.0  # the longest import-timeout


class WorkspaceConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ``[tool.chutes-build]`` table (keys may use ``-`` or ``_``)."""

    chutes: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_CHUTES))
    exclude: list[str] = msgspec.field(default_factory=list)
    cache_dir: str | None = None
    network: str | None = None
    base_images: dict[str, str] = msgspec.field(default_factory=dict)
    port_base: int = 18000
    remote_cache: str | None = None
    tag_from_key: bool = False
    runtime_production: bool = False
    strict: bool = False
    #: Seconds one chute file's import may take (``CHUTES_BUILD_IMPORT_TIMEOUT`` overrides it).
    import_timeout: Annotated[float, msgspec.Meta(gt=0, le=_DAY)] = 30.0
    # A pool of engines sharing a registry (builders/_pool.py parses and checks both).
    registry: str | None = None
    builders: list[str] = msgspec.field(default_factory=list)


class Workspace(msgspec.Struct, kw_only=True):
    root: str
    config: WorkspaceConfig
    pyproject: str | None = None


def _read_config(pyproject: str) -> WorkspaceConfig | None:
    try:
        with open(pyproject, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(
            f"cannot parse {pyproject}: {exc}", fix="fix the TOML syntax", file=pyproject
        ) from None
    table = data.get("tool", {}).get("chutes-build")
    if table is None:
        return None
    normalised = {str(k).replace("-", "_"): v for k, v in table.items()}
    try:
        return msgspec.convert(normalised, WorkspaceConfig)
    except msgspec.ValidationError as exc:
        raise WorkspaceError(
            f"invalid [tool.chutes-build] table: {exc}",
            fix="see the README's workspace section for the keys and their types",
            file=pyproject,
        ) from None


_TIMEOUT_ENV = "CHUTES_BUILD_IMPORT_TIMEOUT"


def import_timeout(config: WorkspaceConfig, environ: Mapping[str, str] = os.environ) -> float:
    """Seconds one chute file's import may take: the environment's, else the workspace's."""
    raw = environ.get(_TIMEOUT_ENV, "").strip()
    if not raw:
        return config.import_timeout
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= _DAY:
        raise WorkspaceError(
            f"{_TIMEOUT_ENV}={raw!r} is not a number of seconds above 0 (and at most a day)",
            fix=f"set it to the seconds one chute file's import may take, e.g. {_TIMEOUT_ENV}=30",
            file="<environment>",
        )
    return value


def find_workspace(start: str | None = None) -> Workspace:
    """The workspace enclosing ``start`` (a file or folder).

    Without a ``[tool.chutes-build]`` table above it, ``start``'s folder is an ad-hoc workspace.
    """
    here = os.path.abspath(start or os.getcwd())
    folder = here if os.path.isdir(here) else os.path.dirname(here)
    probe = folder
    while True:
        pyproject = os.path.join(probe, "pyproject.toml")
        if os.path.isfile(pyproject):
            config = _read_config(pyproject)
            if config is not None:
                return Workspace(root=probe, config=config, pyproject=pyproject)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return Workspace(root=folder, config=WorkspaceConfig())


class LoadedFile:
    """The outcome of importing one chute file."""

    __slots__ = ("chutes", "deps", "error", "images", "module", "path", "raised", "rel", "warnings")

    def __init__(self, path: str, rel: str) -> None:
        self.path, self.rel = path, rel
        self.module: Any = None
        self.chutes: list[tuple[str, Chute]] = []
        self.images: list[tuple[str, Image]] = []
        self.deps: list[str] = []
        self.error: ChutesBuildError | None = None
        self.warnings: list[DefinitionWarning] = []
        #: Definition errors raised while the file was imported (the file may have caught them).
        self.raised: list[ChutesBuildError] = []


class _Recorder:
    """Records which local modules import which while chute files load."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.edges: dict[str, set[str]] = {}
        self._original = builtins.__import__

    def is_local(self, module: Any) -> bool:
        file = getattr(module, "__file__", None)
        if not file:
            return False
        file = os.path.abspath(file)
        return (
            file.startswith(self.root + os.sep)
            and "site-packages" not in file
            and not file.startswith(sys.prefix + os.sep)
        )

    def __call__(self, name, globals=None, locals=None, fromlist=(), level=0):
        module = self._original(name, globals, locals, fromlist, level)
        importer = (globals or {}).get("__name__")
        if importer:
            targets = set()
            full = (
                importlib.util.resolve_name("." * level + name, (globals or {}).get("__package__"))
                if level
                else name
            )
            parts = full.split(".")
            targets.update(".".join(parts[: i + 1]) for i in range(len(parts)))
            targets.update(
                f"{full}.{item}" for item in fromlist or () if f"{full}.{item}" in sys.modules
            )
            self.edges.setdefault(importer, set()).update(
                t for t in targets if self.is_local(sys.modules.get(t))
            )
        return module

    def closure(self, start: str) -> set[str]:
        seen, stack = set(), [start]
        while stack:
            for dep in self.edges.get(stack.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return seen


def _evict_shadowed(search: list[str], local: dict[str, str]) -> None:
    """Drop cached local modules that this file's search path would resolve elsewhere.

    Runs before every file loads, so each top-level name is looked up once, and
    only in folders whose listing holds it (as importlib's finder does).
    """
    packages: dict[str, list[str]] = {}
    for name in local:
        packages.setdefault(name.split(".")[0], []).append(name)
    listings = [_listing(folder) for folder in search]
    for top, names in packages.items():
        resolved_top = _first_provider(top, search, listings)
        if resolved_top and any(
            not os.path.abspath(local[name]).startswith(resolved_top) for name in names
        ):
            for name in names:
                sys.modules.pop(name, None)
                local.pop(name, None)


def _listing(folder: str) -> set[str] | None:
    """The names in ``folder``, or None when it cannot be listed (then every name is probed)."""
    try:
        return set(os.listdir(folder))
    except OSError:
        return None


def _first_provider(top: str, search: list[str], listings: list[set[str] | None]) -> str | None:
    """``folder/top`` for the first search folder holding ``top.py`` or a folder ``top``."""
    for folder, names in zip(search, listings, strict=True):
        if names is not None and top not in names and top + ".py" not in names:
            continue
        path = os.path.join(folder, top)
        if os.path.exists(path + ".py") or os.path.isdir(path):
            return path
    return None


def _user_frame(tb, root: str) -> tuple[str | None, int | None]:
    file = line = None
    for frame, lineno in traceback.walk_tb(tb):
        name = os.path.abspath(frame.f_code.co_filename)
        if name.startswith(root + os.sep):
            file, line = name, lineno
    return file, line


def _convert(exc: BaseException, path: str, root: str) -> ChutesBuildError:
    if isinstance(exc, ChutesBuildError):
        return exc.locate(path, None)
    if isinstance(exc, SyntaxError):
        return LoadError(
            f"syntax error: {exc.msg}",
            file=exc.filename or path,
            line=exc.lineno,
            fix="fix the syntax; `python -m py_compile FILE` shows the same error",
        )
    file, line = _user_frame(exc.__traceback__, root)
    missing = isinstance(exc, ModuleNotFoundError) and missing_package(exc, file or path, line)
    if missing:
        return missing
    if isinstance(exc, ImportTimeout):
        return timeout_error(file or path, line, exc.seconds)
    if isinstance(exc, ProcessExit):
        how = f"called os._exit({exc.status}), which ends the process"
        return exit_error(file or path, line, how)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    fix = "fix the error at that line (run the file with python to reproduce it)"
    error = LoadError(
        f"importing the chute file raised {detail}",
        file=file or path,
        line=line,
        fix=_did_you_mean(exc) or fix,
    )
    error.__cause__ = exc  # --debug shows the user's traceback
    return error


def _did_you_mean(exc: BaseException) -> str | None:
    """``did you mean 'run_command'?`` for a misspelt attribute or name, as Python's own
    traceback suggests it (the message alone does not carry the suggestion)."""
    name = getattr(exc, "name", None)
    if isinstance(exc, AttributeError) and name and getattr(exc, "obj", None) is not None:
        known = [n for n in dir(exc.obj) if not n.startswith("_")]
    elif isinstance(exc, NameError) and name and exc.__traceback__ is not None:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        known = [*tb.tb_frame.f_globals, *tb.tb_frame.f_locals, *dir(builtins)]
    else:
        return None
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


class _Session:
    """State shared while loading many files: the import recorder and cached local modules."""

    def __init__(self, root: str, timeout: float | None = None) -> None:
        self.root = os.path.realpath(root)
        self.timeout = timeout
        self.recorder = _Recorder(self.root)
        self.local: dict[str, str] = {}


def _collect(loaded: LoadedFile) -> None:
    seen: set[int] = set()
    for attr, value in vars(loaded.module).items():
        if attr.startswith("__"):
            continue
        chute = value.chute if isinstance(value, ChutePack) else value
        if isinstance(chute, Chute) and id(chute) not in seen:
            seen.add(id(chute))
            loaded.chutes.append((attr, chute))
        elif isinstance(value, Image):
            loaded.images.append((attr, value))


def _load_one(path: str, session: _Session) -> LoadedFile:
    path = os.path.realpath(path)
    loaded = LoadedFile(path, os.path.relpath(path, session.root).replace(os.sep, "/"))
    modname = "_chute_" + hashlib.sha1(loaded.rel.encode()).hexdigest()[:16]
    search = [os.path.dirname(path), session.root]
    _evict_shadowed(search, session.local)
    before = set(sys.modules)
    saved_path = list(sys.path)
    sys.path[:0] = [p for p in search if p not in sys.path[:2]]
    token = workspace_root.set(session.root)
    builtins.__import__ = session.recorder
    guard = ImportGuard(session.timeout)
    try:
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        loaded.module = module
        sys.modules[modname] = module
        # What the file prints goes to stderr: stdout carries `ls --json` and Dockerfiles.
        with contextlib.redirect_stdout(sys.stderr), guard, collecting() as notes:
            loaded.warnings, loaded.raised = notes.warnings, notes.raised
            spec.loader.exec_module(module)  # type: ignore[union-attr]
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit included
        if guard.interrupted:  # a real Ctrl-C, not a KeyboardInterrupt the file raised
            raise
        loaded.error = _convert(exc, path, session.root)
    finally:
        builtins.__import__ = session.recorder._original
        workspace_root.reset(token)
        sys.path[:] = saved_path
        sys.modules.pop(modname, None)
    for name in set(sys.modules) - before:
        if session.recorder.is_local(sys.modules.get(name)):
            session.local[name] = sys.modules[name].__file__
    deps = session.recorder.closure(modname)
    loaded.deps = sorted(
        {
            os.path.relpath(
                os.path.realpath(session.local.get(d) or sys.modules[d].__file__), session.root
            ).replace(os.sep, "/")
            for d in deps
            if d in session.local or d in sys.modules
        }
    )
    if loaded.error is None:
        _collect(loaded)
    return loaded


def _no_chute(loaded: LoadedFile, path: str) -> ChutesBuildError:
    """The error of a file that defined no chute: the definition error it caught, if any."""
    if loaded.raised:
        return loaded.raised[0].locate(path, None)
    return LoadError(
        "no chute found in this file",
        file=path,
        fix="define a Chute at module level (chute = Chute(...)), "
        "or exclude the file from [tool.chutes-build] chutes",
    )


def load_file(path: str, root: str | None = None, timeout: float | None = None) -> LoadedFile:
    """Import one chute file (``root`` defaults to its workspace's root)."""
    root = root or find_workspace(path).root
    with sdk_aliases():
        return _load_one(path, _Session(root, timeout))


def load_paths(
    workspace: Workspace,
    files: list[str],
    require_chute: bool = True,
    timeout: float | None = None,
    progress: Callable[[LoadedFile], None] | None = None,
) -> list[LoadedFile]:
    """Import each file in isolation; errors are recorded per file, never raised.

    Each import is guarded (``_guard``) and stopped after ``timeout`` seconds;
    ``progress`` is called with each file's outcome before the next one starts.
    """
    session = _Session(workspace.root, timeout)
    results = []
    with sdk_aliases():
        try:
            for path in files:
                loaded = _load_one(path, session)
                if loaded.error is None and require_chute and not loaded.chutes:
                    loaded.error = _no_chute(loaded, path)
                results.append(loaded)
                if progress is not None:
                    progress(loaded)
        finally:
            for name in session.local:
                sys.modules.pop(name, None)
    return results
