"""Decoding request bodies into a cord's input type and encoding its results.

One :class:`BodyCodec` per cord holds cached msgspec decoders (JSON and
msgpack) for the cord's input type. msgspec ``Struct`` and plain types are
validated by msgspec itself; pydantic models are decoded generically and then
validated with ``model_validate`` (pydantic is never imported here).
"""

from __future__ import annotations

from typing import Any

import msgspec

from chutes_build.definitions import is_pydantic_model

__all__ = ["BodyCodec", "BodyError", "encode_json", "to_jsonable"]

_NO_BODY = object()


class BodyError(Exception):
    """A request body that cannot be used: ``status`` is 400 (malformed) or 422 (invalid)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _enc_hook(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump(mode="json", by_alias=True)  # as FastAPI answers (jsonable_encoder)
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__} as JSON")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
encode_json = _encoder.encode


def to_jsonable(obj: Any) -> Any:
    """Plain builtins for ``obj`` (Structs and pydantic models become dicts)."""
    return msgspec.to_builtins(obj, enc_hook=_enc_hook)


def _pydantic_detail(exc: Exception) -> str:
    errors = getattr(exc, "errors", lambda: [])()
    if not errors:
        return str(exc)
    first = errors[0]
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.get("loc", ()))
    return f"{first.get('msg', 'invalid value')} - at `{path}`"


class BodyCodec:
    """Turns body bytes (or query parameters) into the value a cord is called with."""

    __slots__ = ("_json", "_msgpack", "input_type", "pydantic")

    def __init__(self, input_type: Any) -> None:
        self.input_type = input_type
        self.pydantic = is_pydantic_model(input_type)
        target = Any if self.pydantic or input_type is None else input_type
        self._json = msgspec.json.Decoder(target)
        self._msgpack = msgspec.msgpack.Decoder(target)

    def decode(self, body: bytes, msgpack: bool = False) -> Any:
        """Decode and validate; raise :class:`BodyError` with the field path on failure."""
        try:
            value = (self._msgpack if msgpack else self._json).decode(body)
        except msgspec.ValidationError as exc:
            raise BodyError(422, str(exc)) from None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # issue 7: bad UTF-8 was a 500
            kind = "msgpack" if msgpack else "JSON"
            raise BodyError(400, f"malformed {kind} body: {exc}") from None
        return self._validate(value) if self.pydantic else value

    def convert(self, value: Any) -> Any:
        """Validate an already-decoded value (query parameters are strings: lax conversion)."""
        if self.pydantic:
            return self._validate(value)
        if self.input_type is None:
            return value
        try:
            return msgspec.convert(value, self.input_type, strict=False)
        except msgspec.ValidationError as exc:
            raise BodyError(422, str(exc)) from None

    def _validate(self, value: Any) -> Any:
        try:
            return self.input_type.model_validate(value)
        except Exception as exc:  # pydantic.ValidationError, without importing pydantic
            if type(exc).__name__ != "ValidationError":
                raise
            raise BodyError(422, _pydantic_detail(exc)) from None
