"""chutes-build's side of the SDK comparison: the same JSON shape as conftest's SDK dump."""

from __future__ import annotations

import inspect
from typing import Any

from chutes_build import ChutePack, Cord

#: Cord fields that must equal the SDK's exactly.
CORD_FIELDS = (
    "function",
    "path",
    "passthrough_path",
    "passthrough_port",
    "public_api_path",
    "public_api_method",
    "method",
    "stream",
    "passthrough",
    "sglang_passthrough",
    "output_content_type",
)

#: Chute attributes that both sides read under the same name (conftest's SDK dump uses it too).
CHUTE_FIELDS = (
    "name",
    "standard_template",
    "revision",
    "concurrency",
    "max_instances",
    "scaling_threshold",
    "shutdown_after_seconds",
    "allow_external_egress",
    "tee",
)


def cord_json(cord: Cord) -> dict[str, Any]:
    return {
        "function": cord.name,
        "path": cord.path,
        "passthrough_path": cord.passthrough_path,
        "passthrough_port": cord.passthrough_port,
        "public_api_path": cord.public_api_path,
        "public_api_method": cord.public_api_method,
        "method": cord.method,
        "stream": cord.stream,
        "passthrough": cord.passthrough,
        "sglang_passthrough": cord.sglang_passthrough,
        "output_content_type": cord.output_content_type,
        "input_schema": cord.input_schema,
        "minimal_input_schema": cord.minimal_input_schema,
        "output_schema": cord.output_schema,
    }


def pack_json(pack: ChutePack) -> dict[str, Any]:
    chute = pack.chute
    return {
        "pack_fields": sorted(vars(pack)),
        **{name: getattr(chute, name) for name in CHUTE_FIELDS},
        "username": chute.username,
        "image": chute.image if isinstance(chute.image, str) else str(chute.image),
        "startup_hooks": len(chute.startup_hooks),
        "cords": [cord_json(c) for c in chute.cords],
    }


def signature_json(func: Any) -> list[list[Any]]:
    """Parameter names, kinds and default reprs (the comparison ignores annotations)."""
    return [
        [p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
        for p in inspect.signature(func).parameters.values()
    ]
