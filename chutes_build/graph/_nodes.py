"""The nodes of the build graph: one frozen, tagged msgspec struct per kind.

Every node has a ``key`` (its content key), a ``kind`` (the tag: ``base``, ``layer``,
``image``, ``deploy``), a ``label`` and ``text`` for people, ``deps`` (the keys of its
inputs, in order), ``chutes`` (the chutes that use it) and ``names`` (what
``graph.find`` matches besides the key). Each kind adds its own fields; readers
(plan, why, render, the scheduler and the targets) read them as attributes, so a
typo is an error where it is made, not a ``KeyError`` at run time.
``msgspec.to_builtins(node)`` is the node's plain form (``kind`` included), which
``graph --format json`` and the HTML view show.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["BaseNode", "DeployNode", "ImageNode", "LayerNode", "Node", "NodeKind"]


class Node(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """What every node has."""

    key: str
    label: str
    text: str
    deps: tuple[str, ...] = ()
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


NodeKind = BaseNode | LayerNode | ImageNode | DeployNode
