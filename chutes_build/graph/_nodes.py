"""The nodes of the build graph: one frozen, tagged msgspec struct per kind.

Every node has a ``key`` (its content key), a ``kind`` (the tag: ``base``, ``layer``,
``image``, ``runtime``, ``logo``, ``deploy``), a ``label`` and ``text`` for people,
``deps`` (the keys of its inputs, in order), ``after`` (nodes a target runs first that
are not inputs of the key: the runtime layer a local chute starts from, the logo an
upload shows), ``chutes`` (the chutes that use it) and ``names`` (what ``graph.find``
matches besides the key). Each kind adds its own fields; readers
(plan, why, render, the scheduler and the targets) read them as attributes, so a
typo is an error where it is made, not a ``KeyError`` at run time.
``msgspec.to_builtins(node)`` is the node's plain form (``kind`` included), which
``graph --format json`` and the HTML view show.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._keys import node_key

__all__ = [
    "BaseNode",
    "DeployNode",
    "ImageNode",
    "LayerNode",
    "LogoNode",
    "Node",
    "NodeKind",
    "RuntimeNode",
    "logo_key",
    "runtime_key",
]


class Node(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """What every node has."""

    key: str
    label: str
    text: str
    deps: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    chutes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


class BaseNode(Node, frozen=True, kw_only=True, tag="base"):
    """``FROM ref``: ``ref`` after ``base-images`` substitution, ``requested`` before it."""

    ref: str
    requested: str
    line: str
    inputs: dict[str, str]
    parent: None = None


class LayerNode(Node, frozen=True, kw_only=True, tag="layer"):
    """One directive on top of ``parent``: ``line`` is the Dockerfile line it builds with;
    ``files`` the ``{path, digest, mode}`` a local ``add`` selects."""

    parent: str
    line: str
    instruction: str
    directive: dict[str, Any]
    files: tuple[dict[str, Any], ...] = ()
    inputs: dict[str, str]


class ImageNode(Node, frozen=True, kw_only=True, tag="image"):
    """``username/name:tag`` on top of layer ``top`` (``base``: the key of its base)."""

    username: str
    name: str
    tag: str
    uid: str
    readme: str
    top: str
    base: str
    logo: dict[str, str] | None = None
    slot: str
    inputs: dict[str, str]


class DeployNode(Node, frozen=True, kw_only=True, tag="deploy"):
    """One chute: its image node (``image``; None for a prebuilt ``image_ref``), file,
    code digests and ``definition`` (cords, node selector, settings)."""

    chute: str
    username: str
    uid: str
    file: str
    attr: str
    image: str | None
    image_ref: str
    code: dict[str, str]
    code_digest: str
    definition: dict[str, Any]
    logo: dict[str, str] | None = None
    slot: str


class RuntimeNode(Node, frozen=True, kw_only=True, tag="runtime"):
    """The runtime layer of image ``image``: the cord server and its packages copied onto
    it, which the local target runs a chute from. Its key is the image's; what else it is
    built from (the image's Python, the runtime's wheels, dev or production mode) is
    resolved when it is built, and the target records the result under the node's key
    and those conditions."""

    image: str
    slot: str
    inputs: dict[str, str]


class LogoNode(Node, frozen=True, kw_only=True, tag="logo"):
    """A logo file (workspace-relative ``path``, content ``digest``), uploaded once per
    platform API by the chutes target before the images and chutes that show it."""

    path: str
    digest: str
    slot: str
    inputs: dict[str, str]


NodeKind = BaseNode | LayerNode | ImageNode | RuntimeNode | LogoNode | DeployNode


def runtime_key(image_key: str) -> str:
    """The key of image ``image_key``'s runtime node."""
    return node_key("runtime", {}, (image_key,))


def logo_key(digest: str) -> str:
    """The key of the logo node of the logo with content ``digest``."""
    return node_key("logo", {"digest": digest}, ())
