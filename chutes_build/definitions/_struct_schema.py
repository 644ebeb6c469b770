"""The JSON Schema of a msgspec ``Struct``, as pydantic 2 writes it for the same fields.

The platform and its OpenAPI pages receive what the ``chutes`` SDK sends:
``model_json_schema()`` of pydantic models. A ``Struct`` written with the
same fields as a pydantic model gets the same schema here, key for key and in
the same key order: field titles from their names, ``anyOf`` with ``null``
last for optional fields, enums and nested models under ``$defs``, every
mapping's keys sorted except a model's ``properties`` and a ``default``.

``msgspec.Meta`` maps as ``pydantic.Field`` does: ``ge``/``le``/``gt``/``lt``,
``multiple_of``, ``min_length``/``max_length``, ``pattern``, ``title``,
``description``, ``examples``; ``extra_json_schema`` is merged last (the way
to state a schema ``default`` for a field whose default is a factory, which,
as in pydantic, gets none). A class docstring is the model's ``description``,
and ``forbid_unknown_fields=True`` is pydantic's ``extra="forbid"``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import types
import typing
import uuid
from typing import Any

import msgspec

__all__ = ["struct_json_schema"]

_PRIMITIVES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    bytes: {"format": "binary", "type": "string"},
    bytearray: {"format": "binary", "type": "string"},
    datetime.datetime: {"format": "date-time", "type": "string"},
    datetime.date: {"format": "date", "type": "string"},
    datetime.time: {"format": "time", "type": "string"},
    datetime.timedelta: {"format": "duration", "type": "string"},
    uuid.UUID: {"format": "uuid", "type": "string"},
    decimal.Decimal: {"anyOf": [{"type": "number"}, {"type": "string"}]},
}
_NULL = {"type": "null"}
#: msgspec.Meta constraint -> JSON Schema keyword (the length ones depend on the type).
_NUMERIC = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}
_LENGTH = {"string": "Length", "array": "Items", "object": "Properties"}
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array"}


def _is_union(origin: Any) -> bool:
    return origin is typing.Union or origin is types.UnionType


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _literal_type(values: list[Any]) -> dict[str, Any]:
    kinds = {type(v) for v in values}
    if len(kinds) == 1 and (kind := next(iter(kinds))) in _JSON_TYPES:
        return {"type": _JSON_TYPES[kind]}
    return {"type": "null"} if kinds == {type(None)} else {}


def _title(name: str) -> str:
    return name.title().replace("_", " ").strip()


def _flat_any_of(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    members: list[dict[str, Any]] = []
    for schema in schemas:
        nested = schema["anyOf"] if len(schema) == 1 and "anyOf" in schema else [schema]
        for member in nested:
            if member not in members:
                members.append(member)
    return members[0] if len(members) == 1 else {"anyOf": members}


def _apply_meta(schema: dict[str, Any], meta: msgspec.Meta) -> None:
    for name, keyword in _NUMERIC.items():
        if getattr(meta, name) is not None:
            schema[keyword] = getattr(meta, name)
    if meta.multiple_of is not None:
        schema["multipleOf"] = meta.multiple_of
    suffix = _LENGTH.get(schema.get("type", ""), "Length")
    if meta.min_length is not None:
        schema[f"min{suffix}"] = meta.min_length
    if meta.max_length is not None:
        schema[f"max{suffix}"] = meta.max_length
    for name in ("pattern", "title", "description", "examples"):
        if getattr(meta, name) is not None:
            schema[name] = getattr(meta, name)
    schema.update(meta.extra_json_schema or {})


class _Generator:
    """One ``model_json_schema`` call: the ``$defs`` it collects and the refs it writes."""

    def __init__(self, ref_template: str) -> None:
        self.ref_template = ref_template
        self.defs: dict[str, dict[str, Any]] = {}
        self.building: set[str] = set()
        self.referenced: set[str] = set()

    def ref(self, name: str) -> dict[str, Any]:
        self.referenced.add(name)
        return {"$ref": self.ref_template.format(model=name)}

    def struct_ref(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.defs and name not in self.building:
            self.defs[name] = self.struct(cls)
        return self.ref(name)

    def enum_ref(self, cls: type[enum.Enum]) -> dict[str, Any]:
        values = [msgspec.to_builtins(m.value) for m in cls]
        doc = inspect.cleandoc(cls.__doc__) if cls.__doc__ else None
        body = {"title": cls.__name__, "enum": values, **_literal_type(values)}
        if doc and doc != "An enumeration.":
            body["description"] = doc
        self.defs.setdefault(cls.__name__, body)
        return self.ref(cls.__name__)

    def pydantic_ref(self, cls: Any) -> dict[str, Any]:
        schema = cls.model_json_schema(ref_template=self.ref_template)
        self.defs.update(schema.pop("$defs", {}))
        self.defs.setdefault(cls.__name__, schema)
        return self.ref(cls.__name__)

    def struct(self, cls: type) -> dict[str, Any]:
        self.building.add(cls.__name__)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for info in msgspec.structs.fields(cls):
            wire = info.encode_name
            properties[wire] = self.field(wire, info.type, info.default)
            if info.required:
                required.append(wire)
        body: dict[str, Any] = {"properties": properties, "title": cls.__name__, "type": "object"}
        if required:
            body["required"] = required
        if cls.__doc__:
            body["description"] = inspect.cleandoc(cls.__doc__)
        if cls.__struct_config__.forbid_unknown_fields:
            body["additionalProperties"] = False
        self.building.discard(cls.__name__)
        return body

    def field(self, name: str, tp: Any, default: Any) -> dict[str, Any]:
        schema = self.type(tp)
        if default is not msgspec.NODEFAULT:  # a default_factory gives none, as in pydantic
            schema["default"] = msgspec.to_builtins(default)
        if "title" not in schema and _titled(tp):
            schema["title"] = _title(name)
        return schema

    def type(self, tp: Any) -> dict[str, Any]:
        """The schema of one annotation (a fresh dict the caller may change)."""
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is typing.Annotated:
            schema = self.type(args[0])
            for meta in args[1:]:
                if isinstance(meta, msgspec.Meta):
                    _apply_meta(schema, meta)
            return schema
        if tp is None or tp in _PRIMITIVES:
            return {**_PRIMITIVES[type(None) if tp is None else tp]}
        if inspect.isclass(tp) and issubclass(tp, enum.Enum):
            return self.enum_ref(tp)
        if inspect.isclass(tp) and issubclass(tp, msgspec.Struct):
            return self.struct_ref(tp)
        if inspect.isclass(tp) and hasattr(tp, "model_json_schema"):
            return self.pydantic_ref(tp)
        if _is_union(origin):
            return self.union(args)
        if origin is typing.Literal:
            values = [msgspec.to_builtins(v.value if isinstance(v, enum.Enum) else v) for v in args]
            head = {"const": values[0]} if len(values) == 1 else {"enum": values}
            return {**head, **_literal_type(values)}
        bare = origin is None or tp is typing.Tuple  # noqa: UP006 - the unsubscripted alias
        return self.container(origin or tp, args, bare)

    def union(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """pydantic's ``nullable`` of the other members: ``null`` goes last."""
        rest = [a for a in args if a is not None and a is not type(None)]
        if not rest:
            return dict(_NULL)
        schemas = [self.type(a) for a in rest]
        inner = schemas[0] if len(schemas) == 1 else _flat_any_of(schemas)
        if len(rest) == len(args) or inner == _NULL:
            return inner
        return _flat_any_of([inner, dict(_NULL)])

    def container(self, origin: Any, args: tuple[Any, ...], bare: bool) -> dict[str, Any]:
        if origin in (list, set, frozenset):
            schema = {"items": self.type(args[0]) if args else {}, "type": "array"}
            return {**schema, "uniqueItems": True} if origin is not list else schema
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"items": self.type(args[0]), "type": "array"}
            if bare:
                return {"items": {}, "type": "array"}
            items = [self.type(a) for a in args if a != ()]
            schema = {"maxItems": len(items), "minItems": len(items), "type": "array"}
            return {**schema, "prefixItems": items} if items else schema
        if origin is dict:
            values = self.type(args[1]) if args else {}
            values.pop("title", None)
            schema = {"additionalProperties": values or True, "type": "object"}
            if args and "$ref" in (keys := self.type(args[0])):
                schema["propertyNames"] = keys
            return schema
        return {}


def _titled(tp: Any) -> bool:
    """pydantic titles a field unless its type is a model or an enum (optional or not)."""
    tp = _strip(tp)
    if inspect.isclass(tp) and (
        issubclass(tp, enum.Enum | msgspec.Struct) or hasattr(tp, "model_json_schema")
    ):
        return False
    if _is_union(typing.get_origin(tp)):
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return len(rest) != 1 or _titled(rest[0])
    return True


def _sort(value: Any, parent: str | None = None) -> Any:
    """pydantic's key order: sorted, except the keys of ``properties`` and ``default``."""
    if isinstance(value, dict):
        keys = value if parent in ("properties", "default") else sorted(value)
        return {key: _sort(value[key], key) for key in keys}
    if isinstance(value, list):
        return [_sort(item, parent) for item in value]
    return value


def struct_json_schema(cls: type, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """What ``model_json_schema(ref_template=...)`` returns for a pydantic model of these fields."""
    generator = _Generator(ref_template)
    body = generator.struct(cls)
    if cls.__name__ in generator.referenced:  # a recursive model: pydantic refers to itself
        generator.defs[cls.__name__] = body
        body = generator.ref(cls.__name__)
    if generator.defs:
        body = {"$defs": generator.defs, **body}
    return _sort(body)
