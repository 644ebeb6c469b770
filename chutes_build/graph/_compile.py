"""Compile snapshots into the build graph: base, layer, image and deploy nodes.

Each directive becomes a layer on top of its parent, so identical prefixes
have identical keys and collapse into one node. An ``add`` of local files
is keyed by the files it selects (workspace-relative path, content digest,
permission bits), never by their mtimes; its build line names the files by
their workspace-relative path, which is where the builder puts them in the
context. The chute's code is an input of its deploy node, not of its image.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

import msgspec

from ..cache import FileDigest, FileDigests, NotRegularFile
from ..core import ChutesBuildError, GraphError
from ..definitions import DEFAULT_BASE_IMAGE, Add, Directive, From, select_files
from ..workspace import ChuteSnapshot, FileSnapshot, ImageSnapshot, plain
from ._graph import BuildGraph
from ._keys import digest_of, node_key
from ._nodes import (
    BaseNode,
    DeployNode,
    ImageNode,
    LayerNode,
    LogoNode,
    NodeKind,
    RuntimeNode,
    logo_key,
    runtime_key,
)

__all__ = ["compile_snapshots", "inputs_of"]

_LABEL_WIDTH = 72

#: One step of an image's chain before it enters the graph.
_Layer = BaseNode | LayerNode


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_WIDTH else text[: _LABEL_WIDTH - 3] + "..."


class _Compiler:
    def __init__(
        self,
        graph: BuildGraph,
        base_images: dict[str, str],
        digests: FileDigests,
        ignore: tuple[str, ...],
    ) -> None:
        self.graph, self.base_images, self.digests, self.ignore = (
            graph,
            base_images,
            digests,
            ignore,
        )
        self.root = digests.root
        self.layers: dict[tuple[str, Directive], _Layer] = {}
        self.selections: dict[tuple[str, str, tuple[str, ...]], list[list[Any]]] = {}
        self.parts: dict[int, tuple[list, tuple, dict[str, str]]] = {}
        self.images: dict[str, tuple[str, str]] = {}
        self.deploys: dict[str, str] = {}
        self.users: dict[str, set[str]] = {}
        self.bases: dict[str, _Layer] = {}

    # -- nodes -----------------------------------------------------------------------------------

    def base(self, requested: str) -> _Layer:
        if requested not in self.bases:
            self.bases[requested] = self._base(requested)
        return self.bases[requested]

    def _base(self, requested: str) -> _Layer:
        ref = self.base_images.get(requested, requested)
        line = f"FROM {ref}"
        return BaseNode(key=node_key("base", {"ref": ref}), label=ref, text=line, line=line,
                        ref=ref, requested=requested, inputs={"ref": ref})  # fmt: skip

    def select(self, add: Add, rel: str) -> list[list[Any]]:
        origin = add.origin if os.path.isabs(add.origin) else os.path.join(self.root, add.origin)
        memo = (origin, add.source, add.exclude)
        if memo not in self.selections:
            selected, escaping = select_files(
                add.source, origin, self.root, add.exclude, self.ignore
            )
            if escaping:
                raise GraphError(
                    f"add() source {add.source!r} reaches outside the workspace: {escaping[0]}",
                    file=rel,
                    fix="move the files into the workspace",
                )
            if not selected:
                raise GraphError(
                    f"add() source {add.source!r} selects no file (missing, excluded or ignored)",
                    file=rel,
                    fix="check the path and the .dockerignore/.chutesignore patterns",
                )
            files = []
            for path in selected:
                _check_name(add, path, rel)
                found = self.digest(
                    path, rel, f"cannot read {path}", fix="check the file's permissions"
                )
                files.append([path, found.digest, found.mode])
            self.selections[memo] = files
        return self.selections[memo]

    def digest(self, path: str, rel: str, failure: str, fix: str) -> FileDigest:
        """``path``'s digest, or a :class:`GraphError` (``failure``: the cause) against ``rel``."""
        try:
            return self.digests.get(path)
        except NotRegularFile as exc:
            raise GraphError(
                f"{path} is {exc.kind}: only regular files can be added to an image",
                file=rel,
                fix=f"exclude it (add(..., exclude=[{posixpath.basename(path)!r}]) or a "
                ".dockerignore/.chutesignore line), or move it out of the added folder",
            ) from None
        except OSError as exc:
            raise GraphError(f"{failure}: {exc.strerror}", file=rel, fix=fix) from None

    def logo(self, path: str | None, rel: str) -> dict[str, str] | None:
        """``{"path", "digest"}`` of a logo file (workspace-relative), or None."""
        if path is None:
            return None
        fix = "restore the logo file or change the logo= argument"
        found = self.digest(path, rel, f"cannot read logo {path}", fix)
        return {"path": path, "digest": found.digest}

    def context_line(self, add: Add) -> str:
        origin = (
            add.origin if not os.path.isabs(add.origin) else os.path.relpath(add.origin, self.root)
        )
        source = posixpath.normpath(posixpath.join(origin.replace(os.sep, "/") or ".", add.source))
        return " ".join(["ADD", *add.flags(), source, add.dest])

    def layer(self, parent: str, directive: Directive, rel: str) -> _Layer:
        memo = (parent, directive)
        if memo not in self.layers:
            files: list[list[Any]] = []
            if isinstance(directive, Add) and not directive.is_url:
                files = self.select(directive, rel)
                line = self.context_line(directive)
                payload: dict[str, Any] = {"line": line, "files": files}
            else:
                line = directive.render()
                payload = {"line": line}
            key = node_key("layer", payload, (parent,))
            self.layers[memo] = _layer(key, line, parent, directive, *self.file_parts(files))
        return self.layers[memo]

    def file_parts(self, files: list[list[Any]]) -> tuple[tuple, dict[str, str]]:
        """A selection's ``files`` and ``file:`` inputs, made once and shared by every
        layer that adds it (thousands of chutes may add the same folder)."""
        known = self.parts.get(id(files))
        if known is None or known[0] is not files:
            made = (tuple({"path": p, "digest": d, "mode": m} for p, d, m in files),
                    {f"file:{p}": f"{d}:{m:o}" for p, d, m in files})  # fmt: skip
            known = self.parts[id(files)] = (files, *made)
        return known[1], known[2]

    def chain(self, image: ImageSnapshot, rel: str) -> list[_Layer]:
        first = image.directives[0] if image.directives else None
        chain = [self.base(first.image if isinstance(first, From) else DEFAULT_BASE_IMAGE)]
        for directive in image.directives[1:] if isinstance(first, From) else image.directives:
            chain.append(self.layer(chain[-1].key, directive, rel))
        return chain

    def image(self, image: ImageSnapshot, rel: str, chute: str) -> str:
        chain = self.chain(image, rel)
        label = f"{image.username}/{image.name}:{image.tag}"
        payload = {"username": image.username, "name": image.name, "tag": image.tag}
        logo = self.logo(image.logo, rel)
        keyed = {**payload, "readme": image.readme}
        if logo:  # only then: keys of images without a logo stay as they were
            keyed["logo"] = logo["digest"]
        top = chain[-1].key
        key = node_key("image", keyed, (top,))
        owner = self.images.setdefault(label, (key, rel))
        if owner[0] != key:
            raise GraphError(
                f"image {label} is defined differently here and in {owner[1]}",
                file=rel,
                fix="give one of the images another name or tag, or share one definition",
            )
        for step in chain:
            self.graph.add(step)
            self.users.setdefault(step.key, set()).add(chute)
        inputs = {"top": top, **payload, "readme": "digest:" + digest_of(image.readme)}
        if logo:
            inputs["logo"] = logo["digest"]
        after = (self.logo_node(logo, chute),) if logo else ()
        self.graph.add(ImageNode(key=key, label=label, text=f"image {label}", deps=(top,),
                                 after=after, names=(label, f"{image.name}:{image.tag}"),
                                 uid=image.uid, readme=image.readme, top=top, base=chain[0].key,
                                 logo=logo, inputs=inputs, slot=f"image:{label}",
                                 **payload))  # fmt: skip
        self.users.setdefault(key, set()).add(chute)
        runtime = runtime_key(key)
        self.graph.add(RuntimeNode(key=runtime, label=f"on {label}",
                                   text=f"runtime layer on {label}",
                                   deps=(key,), image=key, slot=f"runtime:{label}",
                                   names=(f"runtime:{label}",), inputs={"image": key}))  # fmt: skip
        self.users.setdefault(runtime, set()).add(chute)
        return key

    def logo_node(self, logo: dict[str, str], chute: str) -> str:
        """Add the node of ``logo`` (once per content); return its key."""
        key = logo_key(logo["digest"])
        self.graph.add(LogoNode(key=key, label=logo["path"], text=f"logo {logo['path']}",
                                path=logo["path"], digest=logo["digest"],
                                slot=f"logo:{logo['path']}", names=(logo["path"],),
                                inputs={"digest": logo["digest"]}))  # fmt: skip
        self.users.setdefault(key, set()).add(chute)
        return key

    def deploy(self, snap: FileSnapshot, chute: ChuteSnapshot) -> None:
        slot = f"{chute.username}/{chute.name}"
        if slot in self.deploys:
            raise GraphError(
                f"chute {slot} is also defined in {self.deploys[slot]}",
                file=snap.rel,
                fix="give each chute a unique name",
            )
        image_key = self.image(chute.image, snap.rel, chute.name) if chute.image else None
        self.deploys[slot] = snap.rel
        body, code = _deploy_body(chute), snap.code
        deps = (image_key,) if image_key else ()
        logo = self.logo(chute.logo, snap.rel)
        keyed = {**body, "code": code}
        if logo:  # only then: keys of chutes without a logo stay as they were
            keyed["logo"] = logo["digest"]
        key = node_key("deploy", keyed, deps)
        image_ref = chute.image_ref or self.graph.node(image_key).label
        after = (runtime_key(image_key),) if image_key else ()
        after += (self.logo_node(logo, chute.name),) if logo else ()
        self.graph.add(DeployNode(
            key=key, label=chute.name, text=f"deploy {slot}", deps=deps, after=after,
            chute=chute.name,
            username=chute.username, uid=chute.uid, file=snap.rel, attr=chute.attr,
            image=image_key, image_ref=image_ref, code=code, code_digest=digest_of(code),
            definition=body, logo=logo, slot=f"deploy:{slot}",
            names=(chute.name, slot, f"{snap.rel}:{chute.attr}"),
        ))  # fmt: skip
        self.users.setdefault(key, set()).add(chute.name)

    def finish(self) -> None:
        for key, names in self.users.items():
            self.graph.set_chutes(key, sorted(names))


def _check_name(add: Add, path: str, rel: str) -> None:
    """A file name must be valid UTF-8: keys, Dockerfiles and upload zips carry it as text."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise GraphError(
            f"add() source {add.source!r} selects '{shown}', whose name is not valid UTF-8",
            file=rel,
            fix="rename the file to a UTF-8 name, or exclude it "
            "(add(..., exclude=[...]) or a .dockerignore/.chutesignore line)",
        ) from None


def _layer(key: str, line: str, parent: str, directive: Directive, files: tuple,
           file_inputs: dict[str, str]):  # fmt: skip
    inputs = {"line": line, "parent": parent, **file_inputs}
    return LayerNode(key=key, label=_short(line), text=line, deps=(parent,), line=line,
                     parent=parent, instruction=line.split(" ", 1)[0], directive=plain(directive),
                     files=files, inputs=inputs)  # fmt: skip


def _deploy_body(chute: ChuteSnapshot) -> dict[str, Any]:
    """Everything about a chute that its deployment depends on, besides its image and code."""
    return {"username": chute.username, "name": chute.name, "image_ref": chute.image_ref,
            "standard_template": chute.standard_template, "revision": chute.revision,
            "settings": chute.settings, "cords": chute.cords, "jobs": chute.jobs,
            "hooks": chute.hooks, "node_selector": chute.node_selector}  # fmt: skip


def inputs_of(node: NodeKind) -> dict[str, str]:
    """A node's inputs by name, as ``why`` compares them (a deploy node's are made here)."""
    if not isinstance(node, DeployNode):
        return node.inputs
    inputs = _deploy_inputs(node.definition, node.code, node.image)
    if node.logo:
        inputs["logo"] = node.logo["digest"]
    return inputs


def _deploy_inputs(
    body: dict[str, Any], code: dict[str, str], image_key: str | None
) -> dict[str, str]:
    inputs = {"image": image_key} if image_key else {"image_ref": body["image_ref"]}
    inputs.update({f"code:{path}": digest for path, digest in code.items()})
    for cord in body["cords"]:
        inputs[f"cord:{cord.get('path')}"] = digest_of(cord)
    for name, value in sorted(body["settings"].items()):
        inputs[f"setting:{name}"] = _show(value)
    for name in ("standard_template", "revision", "node_selector", "jobs", "hooks"):
        inputs[name] = _show(body[name])
    return inputs


_JSON = msgspec.json.Encoder(order="deterministic")


def _show(value: Any) -> str:
    text = _JSON.encode(value).decode()
    return text if len(text) <= 80 else "digest:" + digest_of(value)


def compile_snapshots(
    snapshots: list[FileSnapshot],
    digests: FileDigests,
    base_images: dict[str, str] | None = None,
    ignore: tuple[str, ...] = (),
    consume: bool = False,
) -> BuildGraph:
    """The build graph of ``snapshots``; a chute that cannot compile is recorded in ``errors``.

    With ``consume``, each snapshot leaves the list once compiled (the caller needs them no
    more), so that the memory of what the graph does not keep serves the graph."""
    graph = BuildGraph(digests.root)
    compiler = _Compiler(graph, dict(base_images or {}), digests, ignore)
    for i, snap in enumerate(snapshots):
        if consume:
            snapshots[i] = None  # type: ignore[call-overload]
        for chute in snap.chutes:
            try:
                compiler.deploy(snap, chute)
            except ChutesBuildError as exc:
                graph.errors.append((snap.rel, exc))
    if consume:
        snapshots.clear()
    compiler.finish()
    return graph
