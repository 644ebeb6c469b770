"""Loading files written for the ``chutes`` SDK, unmodified.

While chute files are imported, :func:`sdk_aliases` puts an import hook in
front of ``sys.meta_path`` that answers the SDK's definition modules
(``chutes.image``, ``chutes.chute``, their submodules, ``chutes.exception``,
``chutes.util.context``, the standard images and templates; the catalogue is
in ``_sdk_modules``) with chutes-build's own. Any other ``chutes.*`` import
fails with a message naming the module and what to use. Outside the ``with``
block nothing is aliased, so an installed SDK is untouched.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..core import LoadError
from ..definitions import Image
from . import _sdk_modules as _modules

__all__ = ["SDK_MODULES", "SDKImage", "missing_package", "sdk_aliases"]


class SDKImage(Image):
    """The SDK's ``Image``: the same builders, but each updates the image in place.

    SDK files may write ``image.run_command(...)`` without using the result,
    so the SDK-facing class keeps the SDK's in-place semantics (and still
    returns the image, so chained calls work). The directives themselves stay
    immutable structs.
    """

    __slots__ = ()


def _in_place(name: str):
    base = getattr(Image, name)

    def method(self: SDKImage, *args: Any, **kwargs: Any) -> SDKImage:
        updated = base(self, *args, **kwargs)
        self._directives = updated._directives
        return self

    method.__name__ = name
    method.__doc__ = base.__doc__
    return method


for _name in (
    "from_base",
    "with_maintainer",
    "set_user",
    "set_workdir",
    "with_python",
    "apt_install",
    "apt_remove",
    "with_env",
    "run_command",
    "add",
    "with_entrypoint",
):
    setattr(SDKImage, _name, _in_place(_name))


SDK_MODULES = (*_modules.provided_modules(Image), *_modules.TEMPLATE_MODULES)


def missing_package(exc: ModuleNotFoundError, file: str, line: int | None) -> LoadError | None:
    """The error for a chute file importing a package the SDK brings along, or None."""
    top = (exc.name or "").split(".")[0]
    if top not in _modules.SDK_EXTRA_MODULES:
        return None
    return LoadError(
        f"no module named {exc.name!r}: chute files written for the chutes SDK import it, "
        "and the SDK installs it",
        fix="pip install 'chutes-build[sdk]' (the packages the SDK brings along)",
        file=file,
        line=line,
    )


class _Loader(importlib.abc.Loader):
    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec):  # noqa: D401 - importlib protocol
        return self.module

    def exec_module(self, module) -> None:
        return None


def _requested_name(fullname: str) -> str:
    """The module the user's import statement named.

    Importing ``chutes.entrypoint.run`` asks the finder for its parent
    ``chutes.entrypoint`` first; importlib's frames above us still hold the full
    name, so the error can name what the user wrote.
    """
    frame = sys._getframe(1)
    requested = fullname
    machinery = ("<frozen importlib", __file__)
    while frame is not None and frame.f_code.co_filename.startswith(machinery):
        name = frame.f_locals.get("name")
        if isinstance(name, str) and name.startswith(requested + "."):
            requested = name
        frame = frame.f_back
    return requested


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.modules = _modules.provided_modules(SDKImage)

    def find_spec(self, fullname, path, target=None):
        if fullname != "chutes" and not fullname.startswith("chutes."):
            return None
        module = self.modules.get(fullname)
        if module is None and fullname in _modules.TEMPLATE_MODULES:
            source = importlib.import_module(_modules.TEMPLATE_MODULES[fullname])
            public = getattr(source, "__all__", [n for n in vars(source) if not n.startswith("_")])
            module = types.ModuleType(fullname)
            module.__dict__.update({name: getattr(source, name) for name in public})
            self.modules[fullname] = module
        if module is None:
            raise _modules.unavailable(_requested_name(fullname))
        return importlib.machinery.ModuleSpec(
            fullname, _Loader(module), is_package=hasattr(module, "__path__")
        )


@contextmanager
def sdk_aliases() -> Iterator[None]:
    """Alias the SDK's modules to chutes-build's for the duration of the block."""
    saved = {
        name: mod
        for name, mod in sys.modules.items()
        if name == "chutes" or name.startswith("chutes.")
    }
    for name in saved:
        del sys.modules[name]
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "chutes" or n.startswith("chutes.")]:
            del sys.modules[name]
        sys.modules.update(saved)
