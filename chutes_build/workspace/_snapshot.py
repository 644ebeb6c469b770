"""Snapshots: what evaluating a chute file produced, as plain msgspec data.

The graph compiler reads only snapshots, so a warm run never imports a
chute file: it decodes the snapshot cached for the file's content digest
(and its local imports' digests) instead. ``Add.origin`` is stored relative
to the workspace root so snapshots do not depend on where the tree lives.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from ..core import DefinitionWarning
from ..definitions import Add, Chute, Directive, Image
from ._workspace import LoadedFile

__all__ = [
    "ChuteSnapshot",
    "FileSnapshot",
    "ImageSnapshot",
    "SharedParts",
    "snapshot_chutes",
    "snapshot_file",
]

_SETTINGS = (
    "tagline",
    "readme",
    "concurrency",
    "max_instances",
    "shutdown_after_seconds",
    "scaling_threshold",
    "allow_external_egress",
    "encrypted_fs",
    "passthrough_headers",
    "tee",
    "lock_modules",
)


class ImageSnapshot(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    username: str
    name: str
    tag: str
    uid: str
    readme: str = ""
    directives: tuple[Directive, ...]
    logo: str | None = None  # workspace-relative path


class ChuteSnapshot(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    attr: str
    name: str
    username: str
    uid: str
    image: ImageSnapshot | None = None
    image_ref: str | None = None
    standard_template: str | None = None
    revision: str | None = None
    settings: dict[str, Any] = {}
    cords: tuple[dict[str, Any], ...] = ()
    jobs: tuple[dict[str, Any], ...] = ()
    hooks: tuple[tuple[str, str, int], ...] = ()
    node_selector: dict[str, Any] | None = None
    logo: str | None = None  # workspace-relative path


class FileSnapshot(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One chute file: its chutes, the local modules it imported and their digests."""

    rel: str
    digest: str
    deps: tuple[str, ...] = ()
    dep_digests: tuple[str, ...] = ()
    chutes: tuple[ChuteSnapshot, ...] = ()
    #: What loading the file warned about, ``file`` relative to the workspace root.
    warnings: tuple[DefinitionWarning, ...] = ()

    @property
    def code(self) -> dict[str, str]:
        """``{workspace-relative path: digest}`` of the file and its local deps."""
        return {self.rel: self.digest, **dict(zip(self.deps, self.dep_digests, strict=True))}


def _opaque(value: Any) -> Any:
    """Stand-in for values msgspec cannot encode (functions, classes): their qualified name."""
    kind = type(value)
    name = getattr(value, "__qualname__", None) or kind.__qualname__
    return f"<{getattr(value, '__module__', kind.__module__)}.{name}>"


def plain(value: Any) -> Any:
    return msgspec.to_builtins(value, enc_hook=_opaque, order="deterministic")


def _relative(directive: Directive, root: str) -> Directive:
    if isinstance(directive, Add) and directive.origin and os.path.isabs(directive.origin):
        return msgspec.structs.replace(directive, origin=_rel(directive.origin, root))
    return directive


def _rel(path: str | None, root: str) -> str | None:
    if path is None or not os.path.isabs(path):
        return path
    return os.path.relpath(path, root).replace(os.sep, "/")


def _image(image: Image, root: str) -> ImageSnapshot:
    return ImageSnapshot(
        username=image.username,
        name=image.name,
        tag=image.tag,
        uid=image.uid,
        readme=image.readme,
        directives=tuple(_relative(d, root) for d in image.directives),
        logo=_rel(image.logo, root),
    )


def _chute(attr: str, chute: Chute, root: str) -> ChuteSnapshot:
    image = chute.image
    hooks = [("startup", h.func.__qualname__, h.priority) for h in chute.startup_hooks]
    hooks += [("shutdown", h.func.__qualname__, h.priority) for h in chute.shutdown_hooks]
    settings = {name: getattr(chute, name) for name in _SETTINGS}
    if chute.extra:
        settings["extra"] = chute.extra
    jobs = [
        {"name": j.name, "ports": j.ports, "timeout": j.timeout, "upload": j.upload, "ssh": j.ssh}
        for j in chute.jobs
    ]
    return ChuteSnapshot(
        attr=attr,
        name=chute.name,
        username=chute.username,
        uid=chute.uid,
        image=_image(image, root) if isinstance(image, Image) else None,
        image_ref=None if isinstance(image, Image) else str(image),
        standard_template=chute.standard_template,
        revision=chute.revision,
        settings=plain(settings),
        cords=tuple(plain([c.definition() for c in chute.cords])),
        jobs=tuple(plain(jobs)),
        hooks=tuple(hooks),
        node_selector=chute.node_selector.dict() if chute.node_selector else None,
        logo=_rel(chute.logo, root),
    )


def snapshot_chutes(loaded: LoadedFile, root: str) -> tuple[ChuteSnapshot, ...]:
    """The chutes of a successfully loaded file, as plain data (made where it was imported).

    ``root`` is the resolved workspace root (``FileDigests.root``)."""
    return tuple(_chute(attr, chute, root) for attr, chute in loaded.chutes)


class SharedParts:
    """Equal parts of many snapshots, held once: chutes made from one template or helper
    share their cords, settings, jobs and node selector, and their images most
    directives (5,000 such chutes held 35 MiB of snapshots). Nothing changes a
    snapshot's parts once it is made, so sharing them is safe."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, bytes], Any] = {}

    def one(self, value: Any) -> Any:
        if value is None:
            return None
        return self._seen.setdefault((type(value).__name__, _PARTS.encode(value)), value)

    def chute(self, chute: ChuteSnapshot) -> ChuteSnapshot:
        image = chute.image
        if image is not None:
            directives = tuple(self.one(d) for d in image.directives)
            image = msgspec.structs.replace(image, directives=directives)
        return msgspec.structs.replace(
            chute, image=image, cords=self.one(chute.cords), settings=self.one(chute.settings),
            jobs=self.one(chute.jobs), node_selector=self.one(chute.node_selector),
        )  # fmt: skip


_PARTS = msgspec.msgpack.Encoder()


def snapshot_file(
    rel: str,
    chutes: tuple[ChuteSnapshot, ...],
    digest: str,
    deps: dict[str, str],
    warnings: tuple[DefinitionWarning, ...] = (),
) -> FileSnapshot:
    """The snapshot of file ``rel`` (content ``digest``); ``deps`` maps local modules to digests."""
    names = sorted(deps)
    return FileSnapshot(
        rel=rel,
        digest=digest,
        deps=tuple(names),
        dep_digests=tuple(deps[n] for n in names),
        chutes=chutes,
        warnings=warnings,
    )
