"""JSON Schemas for cord inputs and outputs, derived from type hints.

Every schema equals what the ``chutes`` SDK's ``SchemaExtractor`` makes of
the same hints, key for key and in the same key order: an object schema with
``properties``, ``required`` and ``definitions``, ``$ref`` into
``#/definitions/``, each model's own schema as pydantic's
``model_json_schema()`` writes it. pydantic models are asked for that schema
(without importing pydantic here); a msgspec ``Struct`` gets the schema of a
pydantic model with the same fields (:mod:`chutes_build.definitions._struct_schema`).
The SDK's quirks are kept, since the platform has always received them:
``NoneType`` and types it does not know map to ``{}``, ``X | Y`` unions too
(only ``typing.Union``/``Optional`` are unions to it), and a model's nested
models stay under its own ``$defs``.
"""

from __future__ import annotations

import enum
import inspect
import typing
from typing import Any

import msgspec

from ..core import DefinitionError
from ._struct_schema import struct_json_schema

__all__ = [
    "extract_schemas",
    "input_model",
    "is_pydantic_model",
    "is_struct",
    "minimal_schema",
    "model_json_schema",
    "type_schema",
]

#: The SDK's ``PYTHON_TYPE_TO_JSON_TYPE``.
_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    list: {"type": "array", "items": {}},
    dict: {"type": "object"},
    None: {"type": "null"},
}


def is_pydantic_model(tp: Any) -> bool:
    return (
        inspect.isclass(tp) and hasattr(tp, "model_json_schema") and hasattr(tp, "model_validate")
    )


def is_struct(tp: Any) -> bool:
    return inspect.isclass(tp) and issubclass(tp, msgspec.Struct)


def model_json_schema(tp: Any, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """pydantic's ``model_json_schema`` of a pydantic model or of a ``Struct``'s fields."""
    if is_pydantic_model(tp):
        return tp.model_json_schema(ref_template=ref_template)
    try:
        return struct_json_schema(tp, ref_template)
    except NameError as exc:  # a field annotation naming something undefined
        raise DefinitionError(
            f"cannot derive the JSON Schema of {tp.__name__}: {exc}",
            fix=f"define or import every type the fields of {tp.__name__} name, "
            "before the cord that uses it",
        ) from None


def _ref(tp: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The SDK's model reference: the model's schema goes into ``definitions`` once."""
    name = tp.__name__
    if name not in definitions:
        schema = model_json_schema(tp, "#/definitions/{model}")
        definitions[name] = {k: v for k, v in schema.items() if k not in ("title", "definitions")}
        definitions.update(schema.get("definitions", {}))
    return {"$ref": f"#/definitions/{name}"}


def _enum_schema(tp: type[enum.Enum]) -> dict[str, Any]:
    values = [e.value for e in tp]
    for py, js in ((str, "string"), (int, "integer"), (float, "number")):
        if all(isinstance(x, py) for x in values):
            return {"type": js, "enum": values}
    return {"enum": values}


def _container_schema(origin: Any, args: tuple, definitions: dict[str, Any]) -> dict[str, Any]:
    if origin is list:
        return {"type": "array", "items": type_schema(args[0] if args else Any, definitions)}
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
    if origin is set:
        return {
            "type": "array",
            "items": type_schema(args[0] if args else Any, definitions),
            "uniqueItems": True,
        }
    if origin is typing.Literal:
        return {"enum": list(args)}
    return {}


def type_schema(tp: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one type hint; named models go into ``definitions``.

    As in the SDK, ``NoneType`` (what ``get_type_hints`` makes of ``None``) maps
    to ``{}``, so ``Optional[int]`` is ``{"oneOf": [{"type": "integer"}, {}]}``.
    """
    if tp is None:
        return {"type": "null"}
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return _enum_schema(tp)
    if is_pydantic_model(tp) or is_struct(tp):
        return _ref(tp, definitions)
    if _hashable(tp) and tp in _SIMPLE:
        return dict(_SIMPLE[tp])
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        schemas = [type_schema(a, definitions) for a in args]
        if len(schemas) == 2 and {"type": "null"} in schemas:
            return {**next(s for s in schemas if s != {"type": "null"}), "nullable": True}
        return {"oneOf": schemas}
    if origin is typing.Annotated:
        return type_schema(args[0], definitions)
    return _container_schema(origin, args, definitions)


def _hashable(tp: Any) -> bool:
    try:
        hash(tp)
    except TypeError:
        return False
    return True


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
