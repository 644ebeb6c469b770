"""The ``POST /chutes/`` body of the chutes target, built from a deploy node.

:func:`deploy_body_for` hands the definition recorded in the build graph (plus
the chute file's source) to the platform's one body builder
(``platform.deploy_body``), without importing the chute file; the platform's naming
rules for ``filename`` and ``ref_str`` are checked here first, against the chute
file's name, so a bad name fails before any upload with the rename to make.
:func:`deployment_fee` estimates the fee a new chute costs, for ``plan``.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from ..core import DeployError
from ..definitions import NodeSelector

if TYPE_CHECKING:
    from ..graph import DeployNode

__all__ = ["deploy_body_for", "deployment_fee"]

FILENAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.py$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _refs(attrs: DeployNode) -> tuple[str, str]:
    """``(filename, ref_str)`` as the platform requires them, or a clear error."""
    filename = os.path.basename(attrs.file)
    module, attr = filename[:-3], attrs.attr
    if not FILENAME_RE.match(filename):
        wanted = re.sub(r"[^a-z0-9_]+", "_", module.lower()).lstrip("0123456789_") or "chute"
        raise DeployError(
            f"chute {attrs.chute}: the platform takes the chute file's name as the module "
            f"of ref_str and accepts only ^[a-z][a-z0-9_]*\\.py$; {filename!r} does not match",
            fix=f"rename the file to {wanted}.py (lowercase letters, digits, underscores)",
            file=attrs.file,
        )
    if not NAME_RE.match(attr):
        wanted = re.sub(r"[^a-z0-9_]+", "_", attr.lower()).lstrip("0123456789_") or "chute"
        raise DeployError(
            f"chute {attrs.chute}: ref_str {module}:{attr} is not accepted by the platform "
            "(the variable must match ^[a-z][a-z0-9_]*$)",
            fix=f"rename the variable {attr} to {wanted}",
            file=attrs.file,
        )
    return filename, f"{module}:{attr}"


def deploy_body_for(
    attrs: DeployNode, uid: str | None, code: str, *, public: bool, logo_id: str | None = None
) -> dict[str, Any]:
    """The ``POST /chutes/`` body (every §4.2 field) of a deploy node: the platform's one
    body (``platform.deploy_body``) from the node's definition; ``uid`` is the image's
    platform id (None: the prebuilt reference)."""
    from ..platform import deploy_body

    filename, ref_str = _refs(attrs)
    return deploy_body(attrs.definition, code=code, filename=filename, ref_str=ref_str,
                       image=uid or attrs.image_ref, public=public, logo_id=logo_id,
                       file=attrs.file)  # fmt: skip


def deployment_fee(attrs: DeployNode) -> float | None:
    """The estimated fee of deploying a new chute (None: no selector, or no estimate)."""
    selector = attrs.definition["node_selector"]
    if selector is None:
        return None
    try:
        return NodeSelector.from_dict(selector).deployment_fee
    except Exception:  # noqa: BLE001 - an estimate only; the platform decides
        return None
