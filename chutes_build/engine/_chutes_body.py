"""The ``POST /chutes/`` body of the chutes target, built from a deploy node.

:func:`deploy_body_for` turns the definition recorded in the build graph (plus
the chute file's source) into every field the platform's deploy endpoint takes,
without importing the chute file; the platform's naming rules for ``filename``
and ``ref_str`` are checked here, so a bad name fails before any upload.
:func:`deployment_fee` estimates the fee a new chute costs, for ``plan``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core import DeployError
from ..definitions import NodeSelector

__all__ = ["deploy_body_for", "deployment_fee"]

FILENAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.py$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _refs(attrs: dict[str, Any]) -> tuple[str, str]:
    """``(filename, ref_str)`` as the platform requires them, or a clear error."""
    filename = os.path.basename(attrs["file"])
    module, attr = filename[:-3], attrs["attr"]
    if not FILENAME_RE.match(filename):
        wanted = re.sub(r"[^a-z0-9_]+", "_", module.lower()).lstrip("0123456789_") or "chute"
        raise DeployError(
            f"chute {attrs['chute']}: the platform takes the chute file's name as the module "
            f"of ref_str and accepts only ^[a-z][a-z0-9_]*\\.py$; {filename!r} does not match",
            fix=f"rename the file to {wanted}.py (lowercase letters, digits, underscores)",
            file=attrs["file"],
        )
    if not NAME_RE.match(attr):
        wanted = re.sub(r"[^a-z0-9_]+", "_", attr.lower()).lstrip("0123456789_") or "chute"
        raise DeployError(
            f"chute {attrs['chute']}: ref_str {module}:{attr} is not accepted by the platform "
            "(the variable must match ^[a-z][a-z0-9_]*$)",
            fix=f"rename the variable {attr} to {wanted}",
            file=attrs["file"],
        )
    return filename, f"{module}:{attr}"


def _job(job: dict[str, Any]) -> dict[str, Any]:
    ports = [{"name": p["name"], "port": p["port"], "proto": p["proto"]} for p in job["ports"]]
    if job.get("ssh") and not any(p["port"] == 2202 for p in ports):
        ports.append({"name": "ssh", "port": 2202, "proto": "tcp"})
    return {"ports": ports, "timeout": job["timeout"], "name": job["name"],
            "upload": job["upload"]}  # fmt: skip


def deploy_body_for(
    attrs: dict[str, Any], uid: str | None, code: str, *, public: bool, logo_id: str | None = None
) -> dict[str, Any]:
    """The ``POST /chutes/`` body (every §4.2 field) from a deploy node's definition;
    ``uid`` is the image's platform id (None: the prebuilt reference)."""
    definition, settings = attrs["definition"], attrs["definition"]["settings"]
    filename, ref_str = _refs(attrs)
    if definition["node_selector"] is None:
        raise DeployError(
            f"chute {attrs['chute']} has no node_selector; the platform requires one",
            fix="pass node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16)",
            file=attrs["file"],
            field="$.node_selector",
        )
    return {
        "name": attrs["chute"], "tagline": settings["tagline"], "readme": settings["readme"],
        "logo_id": logo_id, "image": uid or attrs["image_ref"], "public": public,
        "standard_template": definition["standard_template"],
        "node_selector": dict(definition["node_selector"]),
        "filename": filename, "ref_str": ref_str, "code": code,
        "concurrency": settings["concurrency"], "max_instances": settings["max_instances"],
        "scaling_threshold": settings["scaling_threshold"],
        "shutdown_after_seconds": settings["shutdown_after_seconds"],
        "allow_external_egress": settings["allow_external_egress"],
        "encrypted_fs": settings["encrypted_fs"], "tee": settings["tee"],
        "lock_modules": settings["lock_modules"], "revision": definition["revision"],
        "cords": [dict(c) for c in definition["cords"]],
        "jobs": [_job(j) for j in definition["jobs"]],
    }  # fmt: skip


def deployment_fee(attrs: dict[str, Any]) -> float | None:
    """The estimated fee of deploying a new chute (None: no selector, or no estimate)."""
    selector = attrs["definition"]["node_selector"]
    if selector is None:
        return None
    try:
        return NodeSelector.from_dict(selector).deployment_fee
    except Exception:  # noqa: BLE001 - an estimate only; the platform decides
        return None
