"""The ``chutes`` SDK's modules as chute files see them: what each provides, or why not.

Every module of SDK 0.6.9 to 0.6.11 falls in one of three groups:

- **provided** (:func:`provided_modules`, :data:`TEMPLATE_MODULES`): the
  definitions (``chutes.image``, ``chutes.chute`` and their submodules,
  ``chutes.exception``, ``chutes.util.context``, the standard image names and
  the templates), answered with chutes-build's own classes;
- **unavailable** (:data:`UNAVAILABLE`): the SDK's command line, its in-image
  server, its platform client and its helpers. Importing one fails naming the
  module and what to use instead;
- the SDK's import names for packages it brings along (fastapi, pydantic, ...)
  are not ``chutes.*`` modules: :data:`SDK_EXTRA_MODULES` lists them so a
  missing one is reported as ``pip install 'chutes-build[sdk]'``.
"""

from __future__ import annotations

import enum
import os
import types
from typing import Any

import msgspec

from .. import definitions as d
from ..core import DefinitionError, DuplicatePath, InvalidPath

__all__ = [
    "SDK_EXTRA_MODULES",
    "SDK_VERSION",
    "TEMPLATE_MODULES",
    "UNAVAILABLE",
    "provided_modules",
    "unavailable_fix",
]

SDK_VERSION = "0.6.9"

#: Import names of the packages the ``sdk`` extra installs: the SDK's own
#: requirements that chute files import at module level.
SDK_EXTRA_MODULES = frozenset(
    {
        "aiofiles", "aiohttp", "backoff", "fastapi", "huggingface_hub", "jwt", "loguru",
        "orjson", "prometheus_client", "psutil", "pybase64", "pydantic", "requests", "semver",
    }
)  # fmt: skip

#: SDK module -> chutes-build module whose public names it re-exports.
TEMPLATE_MODULES = {
    "chutes.chute.template.vllm": "chutes_recipes.vllm",
    "chutes.chute.template.sglang": "chutes_recipes.sglang",
    "chutes.chute.template.embedding": "chutes_recipes.embedding",
    "chutes.chute.template.diffusion": "chutes_recipes.diffusion",
    "chutes.image.standard.vllm": "chutes_recipes.images",
    "chutes.image.standard.sglang": "chutes_recipes.images",
    "chutes.image.standard.diffusion": "chutes_recipes.images",
}

_CLI = "use the chutes-build command (build, up, run, deploy, keys, register)"
_SERVER = "chutes-build's runtime serves cords; a chute file needs no server module"
#: Module (or package prefix) -> what to use instead. The longest matching prefix wins.
UNAVAILABLE = {
    "chutes.cli": _CLI,
    "chutes.entrypoint": _CLI,
    "chutes.crud": _CLI,
    "chutes.config": "chutes-build reads ~/.chutes/config.ini itself; pass settings explicitly",
    "chutes.constants": "write the header names you need as strings",
    "chutes.metrics": _SERVER + " (and its /_metrics)",
    "chutes.inspecto": _SERVER,
    "chutes.cfsv": _SERVER,
    "chutes.cfsv_v2": _SERVER,
    "chutes.cfsv_v3": _SERVER,
    "chutes.cfsv_v4": _SERVER,
    "chutes.cfsv_wrapper": _SERVER,
    "chutes.envdump": _SERVER,
    "chutes.generate_manifest_driver": _SERVER,
    "chutes.chute.template.helpers": "the templates' internal helpers are not part of "
    "chute files; use build_vllm_chute, build_sglang_chute, build_embedding_chute or "
    "build_diffusion_chute",
    "chutes.util.auth": "chutes-build signs platform requests itself (chutes-build keys, up)",
    "chutes.util.schema": "cord schemas come from type hints; read chute.cords[i].input_schema",
    "chutes.util.hf": "download and verify models in your chute's startup hook "
    "(huggingface_hub is in the sdk extra)",
    "chutes.util.user": "pass the username as a string",
}

_GENERIC_FIX = (
    "import from chutes.image, chutes.chute, chutes.chute.node_selector or "
    "chutes.chute.template.{vllm,sglang,embedding,diffusion}, or from chutes_build"
)


def unavailable_fix(name: str) -> str:
    """What to use instead of the SDK module ``name``."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        fix = UNAVAILABLE.get(".".join(parts[:end]))
        if fix:
            return fix
    return _GENERIC_FIX


def _module(name: str, attrs: dict[str, Any], package: bool = False) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    if package:
        module.__path__ = []  # type: ignore[attr-defined]
    return module


def _directive_class(name: str, factory):
    """An SDK directive class (``RUN('x')``) that builds chutes-build's struct."""

    def __new__(cls, *args: Any, **kwargs: Any):
        return factory(*args, **kwargs)

    return type(name, (), {"__new__": __new__, "__doc__": f"The SDK's {name} directive."})


def _apt(command: str):
    def make(package: Any) -> Any:
        from ..definitions import apt_packages

        packages = apt_packages(package, command)
        return (
            d.AptInstall(packages=packages)
            if command == "install"
            else d.AptRemove(packages=packages)
        )

    return make


def _sdk_add(source: str, dest: str, **kwargs: Any) -> d.Add:
    from ..definitions import make_add

    names = ("keep_git_dir", "checksum", "chown", "chmod", "exclude", "build_dir")
    return make_add(source, dest, *(kwargs.get(n) for n in names))


class DirectiveType(enum.Enum):
    """The Dockerfile instructions the SDK's directives write."""

    FROM = "FROM"
    ADD = "ADD"
    ENTRYPOINT = "ENTRYPOINT"
    ENV = "ENV"
    MAINTAINER = "MAINTAINER"
    RUN = "RUN"
    USER = "USER"
    WORKDIR = "WORKDIR"


def _directives() -> dict[str, Any]:
    apt = type(
        "APT",
        (),
        {
            "install": staticmethod(_apt("install")),
            "remove": staticmethod(_apt("remove")),
            "update": staticmethod(lambda: d.AptUpdate()),
        },
    )
    return {
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
        "ADD": _directive_class("ADD", _sdk_add),
    }


#: SDK directive submodule -> the class it defines.
_DIRECTIVE_FILES = {
    "base_image": "FROM", "generic_run": "RUN", "env": "ENV", "user": "USER",
    "workdir": "WORKDIR", "maintainer": "MAINTAINER", "entrypoint": "ENTRYPOINT",
    "apt": "APT", "add": "ADD",
}  # fmt: skip


class Port(msgspec.Struct, frozen=True, kw_only=True):
    """The SDK's job port (``chutes.chute.job.Port``): the platform checks the number."""

    name: str
    port: int
    proto: str = "tcp"


class AuthenticationRequired(RuntimeError):
    """The SDK's error for a platform call without credentials."""


class NotConfigured(RuntimeError):
    """The SDK's error for a missing ``~/.chutes/config.ini``."""


class StillProvisioning(RuntimeError):
    """The SDK's error for a call to a chute that is not ready yet."""


def _is_remote() -> bool:
    return os.environ.get("CHUTES_EXECUTION_CONTEXT") == "REMOTE"


def _context() -> dict[str, Any]:
    return {"is_remote": _is_remote, "is_local": lambda: not _is_remote()}


def provided_modules(image_class: type) -> dict[str, types.ModuleType]:
    """Every SDK module chutes-build answers itself (templates aside), by name."""
    from .. import definitions as _chute
    from ..definitions import NodeSelector

    directives = _directives()
    chute = {"Chute": _chute.Chute, "ChutePack": _chute.ChutePack}
    exceptions = {
        "InvalidPath": InvalidPath, "DuplicatePath": DuplicatePath,
        "AuthenticationRequired": AuthenticationRequired, "NotConfigured": NotConfigured,
        "StillProvisioning": StillProvisioning,
    }  # fmt: skip
    mods = {
        "chutes": _module("chutes", {"__version__": SDK_VERSION}, package=True),
        "chutes._version": _module("chutes._version", {"version": SDK_VERSION}),
        "chutes.image": _module("chutes.image", {"Image": image_class}, package=True),
        "chutes.image.directive": _module(
            "chutes.image.directive",
            {**directives, "DirectiveType": DirectiveType},
            package=True,
        ),
        "chutes.image.standard": _module("chutes.image.standard", {}, package=True),
        "chutes.chute": _module(
            "chutes.chute",
            {**chute, "Cord": _chute.Cord, "Job": _chute.Job, "NodeSelector": NodeSelector},
            package=True,
        ),
        "chutes.chute.base": _module("chutes.chute.base", chute),
        "chutes.chute.cord": _module("chutes.chute.cord", {"Cord": _chute.Cord}),
        "chutes.chute.job": _module("chutes.chute.job", {"Job": _chute.Job, "Port": Port}),
        "chutes.chute.node_selector": _module(
            "chutes.chute.node_selector", {"NodeSelector": NodeSelector}
        ),
        "chutes.chute.template": _module("chutes.chute.template", {}, package=True),
        "chutes.exception": _module("chutes.exception", exceptions),
        "chutes.util": _module("chutes.util", {}, package=True),
        "chutes.util.context": _module("chutes.util.context", _context()),
    }
    for sub, cls in _DIRECTIVE_FILES.items():
        name = f"chutes.image.directive.{sub}"
        mods[name] = _module(name, {cls: directives[cls]})
    return mods


def unavailable(name: str) -> DefinitionError:
    """The error for importing the SDK module ``name``, which chutes-build does not provide."""
    return DefinitionError(
        f"module {name!r} of the chutes SDK is not available in chutes-build",
        fix=unavailable_fix(name),
    )
