"""Image directives: frozen, keyword-only structs that render Dockerfile lines.

``render()`` gives the exact text the ``chutes`` SDK writes for the same call
whenever that text is a safe Dockerfile instruction. Values the SDK would
write unsafely (a newline that starts a new instruction, an env value with
spaces) are either quoted so Docker reads them as meant, or rejected when
validated by the :class:`~chutes_build.Image` methods.
"""

from __future__ import annotations

import json
import re

import msgspec

__all__ = [
    "Add",
    "AptInstall",
    "AptRemove",
    "AptUpdate",
    "Directive",
    "Entrypoint",
    "Env",
    "From",
    "Maintainer",
    "Run",
    "User",
    "Workdir",
]

#: An ENV value Docker reads verbatim without quotes (``$`` expands either way):
#: no Unicode space (words split there), quote or backslash.
_ENV_SAFE = re.compile(r"[^\s\"'\\]*")


class _Base(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    def render(self) -> str:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __str__(self) -> str:
        """The Dockerfile line, as ``str()`` of an SDK directive gives it."""
        return self.render()

    @property
    def instruction(self) -> str:
        """The Dockerfile instruction keyword (``RUN``, ``ENV`` ...)."""
        return self.render().split(" ", 1)[0]


class From(_Base, frozen=True, kw_only=True, tag="from"):
    image: str

    def render(self) -> str:
        return f"FROM {self.image}"


class Maintainer(_Base, frozen=True, kw_only=True, tag="maintainer"):
    maintainer: str

    def render(self) -> str:
        return f"MAINTAINER {self.maintainer}"


class User(_Base, frozen=True, kw_only=True, tag="user"):
    user: str

    def render(self) -> str:
        return f"USER {self.user}"


class Workdir(_Base, frozen=True, kw_only=True, tag="workdir"):
    path: str

    def render(self) -> str:
        return f"WORKDIR {self.path}"


class AptUpdate(_Base, frozen=True, kw_only=True, tag="apt_update"):
    def render(self) -> str:
        return "RUN apt-get update"


class AptInstall(_Base, frozen=True, kw_only=True, tag="apt_install"):
    packages: tuple[str, ...]

    def render(self) -> str:
        return "RUN apt-get -y install " + " ".join(self.packages)


class AptRemove(_Base, frozen=True, kw_only=True, tag="apt_remove"):
    packages: tuple[str, ...]

    def render(self) -> str:
        return "RUN apt-get -y remove " + " ".join(self.packages)


class Env(_Base, frozen=True, kw_only=True, tag="env"):
    key: str
    value: str

    def render(self) -> str:
        if _ENV_SAFE.fullmatch(self.value):
            return f"ENV {self.key}={self.value}"
        # Inside double quotes Docker turns \\ into \ and \" into " and keeps $ expanding.
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'ENV {self.key}="{escaped}"'


class Run(_Base, frozen=True, kw_only=True, tag="run"):
    command: str

    def render(self) -> str:
        return f"RUN {self.command}"


class Entrypoint(_Base, frozen=True, kw_only=True, tag="entrypoint"):
    args: tuple[str, ...]

    def render(self) -> str:
        return "ENTRYPOINT " + json.dumps(list(self.args))


class Add(_Base, frozen=True, kw_only=True, tag="add"):
    """``ADD`` of a local glob (resolved against ``origin``) or a URL.

    ``origin`` is the absolute folder the source is relative to; it is not
    part of any key (the graph keys the selected files instead).
    """

    source: str
    dest: str
    is_url: bool = False
    keep_git_dir: bool = False
    checksum: str | None = None
    chown: str | None = None
    chmod: str | None = None
    exclude: tuple[str, ...] = ()
    origin: str = ""

    def flags(self) -> list[str]:
        flags = []
        if self.is_url and self.keep_git_dir:
            flags.append("--keep-git-dir=true")
        if self.is_url and self.checksum:
            flags.append(f"--checksum={self.checksum}")
        if self.chown:
            flags.append(f"--chown={self.chown}")
        if self.chmod:
            flags.append(f"--chmod={self.chmod}")
        return flags

    def render(self) -> str:
        return " ".join(["ADD", *self.flags(), self.source, self.dest])


Directive = (
    From | Maintainer | User | Workdir | AptUpdate | AptInstall | AptRemove | Env | Run
    | Entrypoint | Add
)  # fmt: skip
