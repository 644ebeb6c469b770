"""``Image``: an immutable list of directives with the ``chutes`` SDK's methods.

Every method returns a new ``Image`` that shares its prefix with the old one,
so two chutes that start the same way compile to the same graph nodes.
``str(image)`` is byte-identical to the SDK's Dockerfile text.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from ..core import DefinitionError
from . import _validate as v
from ._context import caller_folder, is_remote, workspace_root
from ._directives import (
    Add,
    AptInstall,
    AptRemove,
    AptUpdate,
    Directive,
    Entrypoint,
    Env,
    From,
    Maintainer,
    Run,
    User,
    Workdir,
)
from ._files import select_files
from ._logo import resolve_logo
from ._run_rules import run_command

__all__ = ["DEFAULT_BASE_IMAGE", "Image"]

DEFAULT_BASE_IMAGE = "parachutes/python:3.12"

_PYTHON_BUILD_PACKAGES = (
    "build-essential",
    "zlib1g-dev",
    "libncurses5-dev",
    "libgdbm-dev",
    "libnss3-dev",
    "libssl-dev",
    "libreadline-dev",
    "libffi-dev",
    "libsqlite3-dev",
    "wget",
    "libbz2-dev",
    "libexpat1-dev",
    "liblzma-dev",
)


class Image:
    """A container image definition: ``name:tag`` owned by ``username``, plus directives.

    Immutable: ``apt_install``, ``run_command`` and the other builders return
    a new ``Image``. Two images with the same directives produce the same
    build graph nodes whatever their names.
    """

    __slots__ = ("_directives", "_logo", "_name", "_readme", "_tag", "_username")
    default_base_image = DEFAULT_BASE_IMAGE

    def __init__(
        self, username: str, name: str, tag: str, readme: str = "", *, logo: str | None = None
    ) -> None:
        fix = "pass username='your-user'"
        self._username = v.require_str(username, "image username", fix)
        if not v.encodable(username):  # the uid hashes its UTF-8 bytes
            raise DefinitionError(f"invalid image username {username!r}", fix=fix)
        self._name = v.image_name(name, "name")
        self._tag = v.image_name(tag, "tag")
        self._readme = v.require_str(readme, "image readme", "pass readme as a string")
        self._logo = resolve_logo(logo, f"image {name}:{tag}")
        self._directives: tuple[Directive, ...] = (From(image=self.default_base_image),)

    # -- identity -------------------------------------------------------------------------

    @property
    def username(self) -> str:
        return self._username

    @property
    def name(self) -> str:
        return self._name

    @property
    def tag(self) -> str:
        return self._tag

    @property
    def readme(self) -> str:
        return self._readme

    @property
    def logo(self) -> str | None:
        """The logo file's absolute path (``logo=``, relative to the defining file), or None."""
        return self._logo

    @property
    def uid(self) -> str:
        """The platform's image id: uuid5 of ``username/name:tag`` (lowercased)."""
        ref = f"{self._username}/{self._name}:{self._tag}".lower()
        return str(uuid.uuid5(uuid.NAMESPACE_OID, ref))

    @property
    def directives(self) -> tuple[Directive, ...]:
        return self._directives

    @property
    def base(self) -> str:
        """The ``FROM`` reference."""
        first = self._directives[0]
        return first.image if isinstance(first, From) else DEFAULT_BASE_IMAGE

    def __str__(self) -> str:
        return "\n".join(d.render() for d in self._directives)

    def __repr__(self) -> str:
        ref = f"{self._username}/{self._name}:{self._tag}"
        return f"Image({ref}, {len(self._directives)} directives)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        mine = (self._username, self._name, self._tag, self._readme, self._logo)
        theirs = (other._username, other._name, other._tag, other._readme, other._logo)
        return mine == theirs and self._directives == other._directives

    def __hash__(self) -> int:
        return hash((self._username, self._name, self._tag, self._directives))

    def _with(self, directives: tuple[Directive, ...]) -> Image:
        new = object.__new__(type(self))
        new._username, new._name, new._tag, new._readme, new._logo = (
            self._username,
            self._name,
            self._tag,
            self._readme,
            self._logo,
        )
        new._directives = directives
        return new

    def _append(self, *directives: Directive) -> Image:
        return self._with(self._directives + directives)

    # -- the SDK's builder methods -------------------------------------------------------

    def from_base(self, base_image: str) -> Image:
        """Replace the ``FROM`` line."""
        rest = tuple(d for d in self._directives if not isinstance(d, From))
        return self._with((From(image=v.image_ref(base_image)), *rest))

    def with_maintainer(self, maintainer: str) -> Image:
        v.require_str(maintainer, "maintainer", "pass the maintainer as a string")
        return self._append(Maintainer(maintainer=v.single_line(maintainer, "maintainer")))

    def set_user(self, user: str) -> Image:
        v.require_str(user, "user", "pass the user name, e.g. set_user('chutes')")
        if not user.strip():
            raise DefinitionError("set_user() was given an empty user", fix="pass e.g. 'chutes'")
        return self._append(User(user=v.expanded_word(user, "user")))

    def set_workdir(self, directory: str) -> Image:
        v.require_str(directory, "workdir", "pass an absolute path, e.g. '/app'")
        if not directory.strip():
            raise DefinitionError("set_workdir() was given an empty path", fix="pass e.g. '/app'")
        return self._append(Workdir(path=v.expanded_word(directory, "workdir")))

    def with_python(self, version: str = "3.10.15") -> Image:
        """Build CPython ``version`` from source into ``/opt/python`` (as the SDK does)."""
        v.require_str(version, "python version", "pass e.g. '3.11.9'")
        if not all(part.isdigit() for part in version.split(".")) or version.count(".") != 2:
            raise DefinitionError(f"invalid python version {version!r}", fix="pass e.g. '3.11.9'")
        suffix = ".".join(version.split(".")[:2])
        workdirs = [d.path for d in self._directives if isinstance(d, Workdir)]
        current = workdirs[-1] if workdirs else "/root"
        return self._append(
            AptUpdate(),
            AptInstall(packages=_PYTHON_BUILD_PACKAGES),
            Workdir(path="/usr/src"),
            Run(command=f"wget https://www.python.org/ftp/python/{version}/Python-{version}.tgz"),
            Run(command=f"tar -xzf Python-{version}.tgz"),
            Workdir(path=f"/usr/src/Python-{version}"),
            Run(
                command="./configure --enable-optimizations --enable-shared --with-system-expat "
                "--with-ensurepip=install --prefix=/opt/python"
            ),
            Run(command="make -j"),
            Run(command="make altinstall"),
            Workdir(path=current),
            Run(command=f"ln -s /opt/python/bin/pip{suffix} /opt/python/bin/pip"),
            Run(command=f"ln -s /opt/python/bin/python{suffix} /opt/python/bin/python"),
            Run(command="echo /opt/python/lib >> /etc/ld.so.conf && ldconfig"),
            Run(command="rm -rf /usr/src/Python*"),
        )

    def apt_install(self, package: str | list[str]) -> Image:
        return self._append(AptInstall(packages=v.apt_packages(package, "install")))

    def apt_remove(self, package: str | list[str]) -> Image:
        return self._append(AptRemove(packages=v.apt_packages(package, "remove")))

    def with_env(self, key: str, value: str) -> Image:
        key = v.env_key(key)
        if not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DefinitionError(
                    f"value of environment variable {key} must be a string, got {value!r}",
                    fix=f"pass with_env({key!r}, 'text')",
                )
            value = str(value)
        return self._append(Env(key=key, value=v.env_value(value, f"value of {key}")))

    def run_command(self, command: str) -> Image:
        return self._append(Run(command=run_command(command)))

    def add(
        self,
        source: str,
        dest: str,
        keep_git_dir: bool = False,
        checksum: str | None = None,
        chown: str | None = None,
        chmod: str | None = None,
        exclude: list[str] | None = None,
        build_dir: str | None = None,
    ) -> Image:
        """Add local files (a glob relative to the calling file's folder) or a URL."""
        add = make_add(source, dest, keep_git_dir, checksum, chown, chmod, exclude, build_dir)
        return self._append(add)

    def with_entrypoint(self, *args: Any) -> Image:
        """Set the entrypoint: ``with_entrypoint('a', 'b')`` or ``with_entrypoint(['a', 'b'])``."""
        if len(args) == 1 and isinstance(args[0], list | tuple):
            args = tuple(args[0])
        if not args or not all(isinstance(a, str) for a in args):
            raise DefinitionError(
                f"with_entrypoint() needs one or more strings, got {list(args)!r}",
                fix="pass e.g. with_entrypoint('python', '-m', 'app') or a list of strings",
            )
        for arg in args:
            v.entrypoint_arg(arg)
        rest = tuple(d for d in self._directives if not isinstance(d, Entrypoint))
        return self._with((*rest, Entrypoint(args=tuple(args))))


def make_add(source, dest, keep_git_dir, checksum, chown, chmod, exclude, build_dir) -> Add:
    v.require_str(source, "add() source", "pass a path, glob or URL as a string")
    v.require_str(dest, "add() destination", "pass the path inside the image, e.g. '/app/'")
    for what, value in (("source", source), ("destination", dest)):
        v.no_control(value, f"add() {what}")
    if not source.strip() or not dest.strip() or any(c.isspace() for c in source + dest):
        raise DefinitionError(
            "add() source and destination must be non-empty and contain no spaces: "
            f"{source!r} -> {dest!r}",
            fix="rename the file, or add the folder that contains it",
        )
    v.add_path(source, "source")
    v.add_path(dest, "destination")
    is_url = "://" in source
    excludes = v.string_list(exclude or [], "add() exclude")
    add = Add(
        source=source,
        dest=dest,
        is_url=is_url,
        keep_git_dir=bool(keep_git_dir) and is_url,
        checksum=(
            v.add_option(checksum, v.CHECKSUM_RE, "checksum", "sha256:" + "0" * 64)
            if is_url
            else None
        ),
        chown=v.add_option(chown, v.CHOWN_RE, "chown", "chutes:chutes"),
        chmod=v.add_option(chmod, v.CHMOD_RE, "chmod", "755"),
        exclude=excludes,
        origin=_origin(build_dir),
    )
    if not is_url and not is_remote():
        _check_add_sources(add)
    return add


def _origin(build_dir: str | None) -> str:
    return os.path.abspath(build_dir) if build_dir else caller_folder()


def _check_add_sources(add: Add) -> None:
    root = workspace_root.get() or add.origin
    if os.path.isabs(add.source):
        raise DefinitionError(
            f"add() source {add.source!r} is an absolute path",
            fix="give the path relative to the chute file's folder",
        )
    selected, escaping = select_files(add.source, add.origin, root, add.exclude)
    if escaping:
        raise DefinitionError(
            f"add() source {add.source!r} reaches outside the workspace root {root}: {escaping[0]}",
            fix="move the files into the workspace, or widen the workspace root (pyproject.toml)",
        )
    if not selected:
        raise DefinitionError(
            f"add() source {add.source!r} matches no file under {add.origin}",
            fix="check the path; it is resolved relative to the chute file's folder",
        )
