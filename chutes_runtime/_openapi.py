"""An OpenAPI 3 document built from the cords' input and output schemas."""

from __future__ import annotations

from typing import Any

import msgspec

from chutes_build.definitions import Chute

__all__ = ["openapi"]


def _lift(schema: Any, components: dict) -> Any:
    """``schema`` without its ``$defs`` / ``definitions`` (at any depth: the SDK nests a
    model's sub-models under the model), each moved into ``components``."""
    if isinstance(schema, list):
        return [_lift(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("$defs", "definitions") and isinstance(value, dict):
            for name, definition in value.items():
                components[name] = _lift(definition, components)
        else:
            out[key] = _lift(value, components)
    return out


def _body_schema(cord: Any, components: dict) -> dict | None:
    schema = _lift(cord.input_schema or {}, components)
    props = schema.get("properties") or {}
    if "input_args" in props and len(props) == 1:  # minimal schema of an explicit model
        return props["input_args"]
    params = [k for k in props if k != "self"]
    return props[params[0]] if params else None


def _operation(cord: Any, components: dict, method: str) -> dict:
    op: dict[str, Any] = {"operationId": f"{cord.name}_{method}", "summary": cord.name}
    body = _body_schema(cord, components)
    if body is not None and method != "get":
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    media = cord.output_content_type or "application/json"
    if cord.stream:
        media = "text/event-stream"
    out = _lift(cord.output_schema or {}, components)
    op["responses"] = {
        "200": {"description": "OK", "content": {media: {"schema": out}}},
        "422": {"description": "Invalid body"},
    }
    return op


def openapi(chute: Chute, dev: bool) -> bytes:
    """The document as JSON bytes (``#/definitions/`` and ``#/$defs/`` refs point into
    ``components``)."""
    components: dict[str, Any] = {}
    paths: dict[str, dict] = {}
    for cord in chute.cords:
        paths.setdefault(cord.path, {})["post"] = _operation(cord, components, "post")
        public = cord.public_api_path
        if dev and public and public != cord.path:
            method = cord.public_api_method.lower()
            paths.setdefault(public, {})[method] = _operation(cord, components, method)
    doc = {
        "openapi": "3.1.0",
        "info": {"title": chute.name, "version": chute.revision or "0"},
        "paths": paths,
        "components": {"schemas": components},
    }
    text = msgspec.json.encode(doc)
    for prefix in (b"#/definitions/", b"#/$defs/"):
        text = text.replace(prefix, b"#/components/schemas/")
    return text
