"""Loading files written for the ``chutes`` SDK, unmodified.

While chute files are imported, :func:`sdk_aliases` puts an import hook in
front of ``sys.meta_path`` that answers ``chutes.image``, ``chutes.chute``,
``chutes.chute.node_selector``, ``chutes.image.directive.*``,
``chutes.image.standard.*`` and ``chutes.chute.template.*`` with chutes-build's
own modules. Any other ``chutes.*`` import fails with a message naming the
module. Outside the ``with`` block nothing is aliased, so an installed SDK is
untouched.
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

from . import _directives as d
from ._errors import DefinitionError
from ._image import Image

__all__ = ["SDK_MODULES", "SDKImage", "sdk_aliases"]


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


def _directive_class(name: str, factory):
    """An SDK directive class (``RUN('x')``) that builds chutes-build's struct."""

    def __new__(cls, *args: Any, **kwargs: Any):
        return factory(*args, **kwargs)

    return type(name, (), {"__new__": __new__, "__doc__": f"The SDK's {name} directive."})


def _apt(command: str):
    def make(package: Any) -> Any:
        from ._validate import apt_packages

        packages = apt_packages(package, command)
        return (
            d.AptInstall(packages=packages)
            if command == "install"
            else d.AptRemove(packages=packages)
        )

    return make


def _module(name: str, attrs: dict[str, Any], package: bool = False) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    if package:
        module.__path__ = []  # type: ignore[attr-defined]
    return module


def _build_modules() -> dict[str, types.ModuleType]:
    from . import _chute
    from ._node_selector import NodeSelector

    apt = type(
        "APT",
        (),
        {
            "install": staticmethod(_apt("install")),
            "remove": staticmethod(_apt("remove")),
            "update": staticmethod(lambda: d.AptUpdate()),
        },
    )
    directives = {
        "FROM": _directive_class("FROM", lambda image: d.From(image=image)),
        "RUN": _directive_class("RUN", lambda command: d.Run(command=command)),
        "ENV": _directive_class("ENV", lambda key, value: d.Env(key=key, value=value)),
        "USER": _directive_class("USER", lambda user: d.User(user=user)),
        "WORKDIR": _directive_class("WORKDIR", lambda path: d.Workdir(path=path)),
        "MAINTAINER": _directive_class("MAINTAINER", lambda m: d.Maintainer(maintainer=m)),
        "ENTRYPOINT": _directive_class(
            "ENTRYPOINT", lambda a: d.Entrypoint(args=(a,) if isinstance(a, str) else tuple(a))
        ),
        "APT": apt,
    }
    mods = {
        "chutes": _module("chutes", {"__version__": "0.6.9"}, package=True),
        "chutes.image": _module("chutes.image", {"Image": SDKImage}, package=True),
        "chutes.image.directive": _module("chutes.image.directive", dict(directives), package=True),
        "chutes.image.standard": _module("chutes.image.standard", {}, package=True),
        "chutes.chute": _module(
            "chutes.chute",
            {
                "Chute": _chute.Chute,
                "ChutePack": _chute.ChutePack,
                "Cord": _chute.Cord,
                "Job": _chute.Job,
                "NodeSelector": NodeSelector,
            },
            package=True,
        ),
        "chutes.chute.node_selector": _module(
            "chutes.chute.node_selector", {"NodeSelector": NodeSelector}
        ),
        "chutes.chute.template": _module("chutes.chute.template", {}, package=True),
    }
    submodules = {
        "base_image": "FROM",
        "generic_run": "RUN",
        "env": "ENV",
        "user": "USER",
        "workdir": "WORKDIR",
        "maintainer": "MAINTAINER",
        "entrypoint": "ENTRYPOINT",
        "apt": "APT",
        "add": None,
    }
    for sub, cls in submodules.items():
        attrs = {cls: directives[cls]} if cls else {"ADD": _directive_class("ADD", _sdk_add)}
        mods[f"chutes.image.directive.{sub}"] = _module(f"chutes.image.directive.{sub}", attrs)
    return mods


def _sdk_add(source: str, dest: str, **kwargs: Any) -> d.Add:
    from ._image import _make_add

    names = ("keep_git_dir", "checksum", "chown", "chmod", "exclude", "build_dir")
    return _make_add(source, dest, *(kwargs.get(n) for n in names))


#: SDK module -> chutes-build module whose public names it re-exports.
_TEMPLATE_MODULES = {
    "chutes.chute.template.vllm": "chutes_recipes.vllm",
    "chutes.chute.template.sglang": "chutes_recipes.sglang",
    "chutes.chute.template.embedding": "chutes_recipes.embedding",
    "chutes.chute.template.diffusion": "chutes_recipes.diffusion",
    "chutes.image.standard.vllm": "chutes_recipes.images",
    "chutes.image.standard.sglang": "chutes_recipes.images",
    "chutes.image.standard.diffusion": "chutes_recipes.images",
}

SDK_MODULES = (
    "chutes",
    "chutes.image",
    "chutes.image.directive",
    "chutes.image.standard",
    "chutes.chute",
    "chutes.chute.node_selector",
    "chutes.chute.template",
    *_TEMPLATE_MODULES,
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
        self.modules = _build_modules()

    def find_spec(self, fullname, path, target=None):
        if fullname != "chutes" and not fullname.startswith("chutes."):
            return None
        module = self.modules.get(fullname)
        if module is None and fullname in _TEMPLATE_MODULES:
            source = importlib.import_module(_TEMPLATE_MODULES[fullname])
            public = getattr(source, "__all__", [n for n in vars(source) if not n.startswith("_")])
            module = _module(fullname, {name: getattr(source, name) for name in public})
            self.modules[fullname] = module
        if module is None:
            raise DefinitionError(
                f"module {_requested_name(fullname)!r} of the chutes SDK "
                "is not available in chutes-build",
                fix="import from chutes.image, chutes.chute, chutes.chute.node_selector or "
                "chutes.chute.template.{vllm,sglang,embedding,diffusion}, or from chutes_build",
            )
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
