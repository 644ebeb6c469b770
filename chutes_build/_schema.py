"""JSON Schemas for cord inputs and outputs, derived from type hints.

The shape matches the ``chutes`` SDK's ``SchemaExtractor`` (an object schema
with ``properties``, ``required`` and ``definitions``, ``$ref`` into
``#/definitions/``) so the platform sees the same schemas. msgspec
``Struct`` types are supported natively; pydantic models are used through
their own ``model_json_schema`` without importing pydantic here.
"""

from __future__ import annotations

import enum
import inspect
import typing
from typing import Any

import msgspec

__all__ = [
    "extract_schemas",
    "input_model",
    "is_pydantic_model",
    "is_struct",
    "minimal_schema",
    "type_schema",
]

_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    list: {"type": "array", "items": {}},
    dict: {"type": "object"},
    None: {"type": "null"},
    bytes: {"type": "string", "contentEncoding": "base64"},
}


def is_pydantic_model(tp: Any) -> bool:
    return (
        inspect.isclass(tp) and hasattr(tp, "model_json_schema") and hasattr(tp, "model_validate")
    )


def is_struct(tp: Any) -> bool:
    return inspect.isclass(tp) and issubclass(tp, msgspec.Struct)


def _model_schema(tp: Any) -> dict[str, Any]:
    if is_pydantic_model(tp):
        return tp.model_json_schema(ref_template="#/definitions/{model}")
    schema = msgspec.json.schema(tp, ref_template="#/definitions/{name}")
    defs = schema.pop("$defs", {})
    ref = schema.get("$ref", "")
    body = dict(defs.pop(ref.rsplit("/", 1)[-1], schema))
    if defs:
        body["definitions"] = defs
    return body


def _ref(tp: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    name = tp.__name__
    if name not in definitions and is_pydantic_model(tp):
        # Exactly the SDK's SchemaExtractor: pydantic's nested models stay under
        # the model's own "$defs" (the platform has always received them so).
        schema = _model_schema(tp)
        definitions[name] = {k: v for k, v in schema.items() if k not in ("title", "definitions")}
        definitions.update(schema.get("definitions", {}))
    elif name not in definitions:
        schema = _model_schema(tp)
        definitions[name] = {
            k: v for k, v in schema.items() if k not in ("title", "definitions", "$defs")
        }
        definitions.update(schema.get("definitions", {}) or schema.get("$defs", {}))
    return {"$ref": f"#/definitions/{name}"}


def type_schema(tp: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one type hint; named models go into ``definitions``.

    As in the SDK, ``NoneType`` (what ``get_type_hints`` makes of ``None``) maps
    to ``{}``, so ``Optional[int]`` is ``{"oneOf": [{"type": "integer"}, {}]}``.
    """
    if tp is None:
        return {"type": "null"}
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        values = [e.value for e in tp]
        for py, js in ((str, "string"), (int, "integer"), (float, "number")):
            if all(isinstance(x, py) for x in values):
                return {"type": js, "enum": values}
        return {"enum": values}
    if is_pydantic_model(tp) or is_struct(tp):
        return _ref(tp, definitions)
    if tp in _SIMPLE:
        return dict(_SIMPLE[tp])
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union or (
        origin is not None and getattr(origin, "__name__", "") == "UnionType"
    ):
        schemas = [type_schema(a, definitions) for a in args]
        if len(schemas) == 2 and {"type": "null"} in schemas:
            return {**next(s for s in schemas if s != {"type": "null"}), "nullable": True}
        return {"oneOf": schemas}
    if origin in (list, typing.List):  # noqa: UP006
        return {"type": "array", "items": type_schema(args[0] if args else Any, definitions)}
    if origin in (set, frozenset):
        return {
            "type": "array",
            "items": type_schema(args[0] if args else Any, definitions),
            "uniqueItems": True,
        }
    if origin is dict:
        if not args:
            return {"type": "object"}
        return {"type": "object", "additionalProperties": type_schema(args[1], definitions)}
    if origin is tuple:
        return {
            "type": "array",
            "items": [type_schema(a, definitions) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is typing.Annotated:
        return type_schema(args[0], definitions)
    return {}


def _hints(func: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, include_extras=False)
    except Exception:  # unresolved forward references: fall back to raw annotations
        return {
            k: v for k, v in getattr(func, "__annotations__", {}).items() if not isinstance(v, str)
        }


def extract_schemas(func: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``(input_schema, output_schema)`` for a cord function, as the SDK derives them."""
    hints = _hints(func)
    return_type = hints.pop("return", None)
    definitions: dict[str, Any] = {}
    properties = {name: type_schema(tp, definitions) for name, tp in hints.items()}
    input_schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "definitions": definitions,
    }
    output_schema = None
    if return_type is not None:
        output_schema = type_schema(return_type, definitions)
        if "$ref" in output_schema:
            output_schema = {
                "type": "object",
                **definitions[output_schema["$ref"].rsplit("/", 1)[-1]],
            }
    return input_schema, output_schema


def minimal_schema(model: Any) -> dict[str, Any]:
    """The SDK's ``minimal_input_schema`` shape for one model type."""
    definitions: dict[str, Any] = {}
    ref = _ref(model, definitions)
    return {
        "type": "object",
        "properties": {"input_args": ref},
        "required": ["input_args"],
        "definitions": definitions,
    }


def input_model(func: Any) -> Any | None:
    """The type the request body is decoded into: the single typed parameter after ``self``.

    Returns ``None`` when the function takes no body parameter.
    """
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    if not params:
        return None
    hints = _hints(func)
    return hints.get(params[0].name, Any)
