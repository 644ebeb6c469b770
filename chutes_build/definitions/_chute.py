"""``Chute``, ``Cord``, ``Job`` and ``ChutePack``: the chute definition as plain data.

A ``Chute`` holds its image, settings, cords and hooks. It is not a web
application and imports no web framework: the runtime package serves it.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Any

from ..core import DefinitionError, DuplicatePath
from . import _schema
from . import _validate as v
from ._image import Image
from ._logo import resolve_logo
from ._node_selector import NodeSelector

__all__ = ["Chute", "ChutePack", "Cord", "Hook", "Job"]

_TEMPLATES = (None, "vllm", "sglang", "diffusion", "tei", "embedding")


def _check(cond: bool, field: str, message: str, fix: str) -> None:
    if not cond:
        raise DefinitionError(message, fix=fix, field=f"$.{field}")


def _int_in(name: str, value: Any, low: int | None, high: int | None) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
    _check(ok, name, f"{name} must be an integer {bounds}, got {value!r}", f"set {name} {bounds}")
    return value


class Hook:
    """A startup or shutdown hook: ``func(chute)`` run in ``priority`` order (lower first)."""

    __slots__ = ("func", "priority")

    def __init__(self, func: Callable, priority: int) -> None:
        self.func, self.priority = func, priority

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)


class Cord:
    """One HTTP-served function of a chute, with every option the SDK's ``cord`` takes."""

    def __init__(
        self,
        chute: Chute,
        stream: bool = False,
        path: str | None = None,
        passthrough_path: str | None = None,
        passthrough: bool = False,
        passthrough_port: int | None = None,
        public_api_path: str | None = None,
        public_api_method: str = "POST",
        method: str = "POST",
        provision_timeout: int = 180,
        input_schema: Any = None,
        minimal_input_schema: Any = None,
        output_content_type: str | None = None,
        output_schema: dict | None = None,
        sglang_passthrough: bool = False,
        **session_kwargs: Any,
    ) -> None:
        self.chute = chute
        self.func: Callable | None = None
        self.path = v.cord_path(path) if path else None
        self.passthrough_path = (
            v.cord_path(passthrough_path, "passthrough_path") if passthrough_path else None
        )
        self.public_api_path = (
            v.cord_path(public_api_path, "public_api_path") if public_api_path else None
        )
        self.public_api_method = _method(public_api_method, "public_api_method", ("GET", "POST"))
        self.method = _method(method, "method", ("GET", "POST", "PUT", "PATCH", "DELETE"))
        self.stream, self.passthrough = bool(stream), bool(passthrough)
        self.sglang_passthrough = bool(sglang_passthrough)
        if passthrough_port is not None:
            _int_in("passthrough_port", passthrough_port, 1, 65535)
        self.passthrough_port = passthrough_port
        self.provision_timeout = provision_timeout
        self.session_kwargs = session_kwargs
        self.input_type: Any = None
        self.input_models = (
            [input_schema]
            if _schema.is_pydantic_model(input_schema) or _schema.is_struct(input_schema)
            else None
        )
        self.input_schema = _resolve_schema(input_schema, minimal=True)
        self.minimal_input_schema = _resolve_schema(minimal_input_schema, minimal=True)
        self.output_content_type = output_content_type
        self.output_schema = _resolve_schema(output_schema)
        if self.path and any(c.path == self.path for c in chute.cords):
            raise DuplicatePath(
                f"duplicate cord path {self.path!r} in chute {chute.name!r}",
                fix="give each cord its own path=",
            )

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise DefinitionError(
                f"@cord must decorate a function, got {func!r}", fix="put @chute.cord() above a def"
            )
        self.func = func
        if not self.path:
            self.path = v.cord_path(func.__name__)
            if any(c.path == self.path for c in self.chute.cords if c is not self):
                raise DuplicatePath(
                    f"duplicate cord path {self.path!r} in chute {self.chute.name!r}",
                    fix="give each cord its own path=",
                )
        if not self.passthrough_path:
            self.passthrough_path = v.cord_path(func.__name__, "passthrough_path")
        in_schema, out_schema = _schema.extract_schemas(func)
        self.input_schema = self.input_schema or in_schema
        self.output_schema = self.output_schema or out_schema
        if not self.output_content_type and isinstance(out_schema, dict):
            self.output_content_type = (
                "application/json" if out_schema.get("type") == "object" else "text/plain"
            )
        self.input_type = self.input_models[0] if self.input_models else _schema.input_model(func)
        self.chute._cords.append(self)
        return func

    @property
    def name(self) -> str:
        return self.func.__name__ if self.func else ""

    def definition(self) -> dict[str, Any]:
        """The cord as the platform's deploy body lists it (CHUTES_API.md §4.2)."""
        return {  # the SDK's key order
            "method": self.method,
            "path": self.path,
            "public_api_path": self.public_api_path,
            "public_api_method": self.public_api_method,
            "stream": self.stream,
            "function": self.name,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
            "output_content_type": self.output_content_type,
            "minimal_input_schema": self.minimal_input_schema,
            "passthrough": self.passthrough,
        }


def _method(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    ok = isinstance(value, str) and value.upper() in allowed
    _check(
        ok, name, f"{name} must be one of {', '.join(allowed)}, got {value!r}", f"set {name}='POST'"
    )
    return value.upper()


def _resolve_schema(schema: Any, minimal: bool = False) -> dict | None:
    if schema is None:
        return None
    if _schema.is_pydantic_model(schema) or _schema.is_struct(schema):
        return _schema.minimal_schema(schema) if minimal else _full_schema(schema)
    if isinstance(schema, dict):
        return schema
    raise DefinitionError(
        f"a cord schema must be a model class or a dict, got {type(schema).__name__}",
        fix="pass a pydantic model, a msgspec Struct, or a JSON Schema dict",
    )


def _full_schema(model: Any) -> dict:
    return _schema.model_json_schema(model)  # what the SDK sends for output_schema=Model


class Job:
    """A long-running job of a chute (the SDK's ``@chute.job``)."""

    def __init__(
        self,
        chute: Chute,
        ports: list | None = None,
        timeout: int | None = None,
        upload: bool = True,
        ssh: bool = False,
    ) -> None:
        self.chute, self.ports, self.timeout, self.upload, self.ssh = (
            chute,
            list(ports or []),
            timeout,
            upload,
            ssh,
        )
        self.func: Callable | None = None

    def __call__(self, func: Callable) -> Callable:
        self.func = func
        self.chute._jobs.append(self)
        return func

    @property
    def name(self) -> str:
        return self.func.__name__ if self.func else ""


class Chute:
    """A chute: an image, GPU requirements, scaling settings and cords."""

    def __init__(
        self,
        username: str,
        name: str,
        image: str | Image,
        tagline: str = "",
        readme: str = "",
        standard_template: str | None = None,
        revision: str | None = None,
        node_selector: NodeSelector | None = None,
        concurrency: int = 1,
        max_instances: int = 1,
        shutdown_after_seconds: int = 300,
        scaling_threshold: float = 0.75,
        allow_external_egress: bool = False,
        encrypted_fs: bool = False,
        passthrough_headers: dict | None = None,
        tee: bool = False,
        lock_modules: bool | None = None,
        *,
        logo: str | None = None,
        **kwargs: Any,
    ) -> None:
        _check(
            isinstance(username, str) and bool(username) and v.encodable(username),
            "username",
            f"invalid chute username {username!r}",
            "pass username='your-user'",
        )
        _check(
            isinstance(name, str)
            and 1 <= len(name) <= 128
            and "\n" not in name
            and v.encodable(name),
            "name",
            f"invalid chute name {name!r}",
            "use a name of 1 to 128 characters",
        )
        if not isinstance(image, Image):
            v.image_ref(image)
        _check(
            standard_template in _TEMPLATES,
            "standard_template",
            f"unknown standard_template {standard_template!r}",
            "use one of vllm, sglang, diffusion, tei, embedding",
        )
        _check(
            node_selector is None or isinstance(node_selector, NodeSelector),
            "node_selector",
            f"node_selector must be a NodeSelector, got {node_selector!r}",
            "pass node_selector=NodeSelector(gpu_count=1)",
        )
        _check(
            isinstance(scaling_threshold, int | float) and 0 <= scaling_threshold <= 1,
            "scaling_threshold",
            f"scaling_threshold must be between 0 and 1, got {scaling_threshold!r}",
            "use e.g. 0.75",
        )
        self.username, self.name, self.image = username, name, image
        self.tagline, self.readme = tagline, readme
        self.standard_template, self.revision = standard_template, revision
        self.node_selector = node_selector
        self.concurrency = _int_in("concurrency", concurrency, 1, 256)
        self.max_instances = _int_in("max_instances", max_instances, 1, 100)
        self.shutdown_after_seconds = _int_in(
            "shutdown_after_seconds", shutdown_after_seconds, 60, 604800
        )
        self.scaling_threshold = float(scaling_threshold)
        self.allow_external_egress, self.encrypted_fs = (
            bool(allow_external_egress),
            bool(encrypted_fs),
        )
        self.passthrough_headers = dict(passthrough_headers or {})
        self.tee, self.lock_modules = bool(tee), lock_modules
        #: The logo file's absolute path (``logo=``, relative to the chute file), or None.
        self.logo = resolve_logo(logo, f"chute {name!r}")
        self.extra = kwargs
        self._cords: list[Cord] = []
        self._jobs: list[Job] = []
        self._startup_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []

    @property
    def uid(self) -> str:
        """The platform's chute id: uuid5 of ``username::chute::name``."""
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.username}::chute::{self.name}"))

    @property
    def cords(self) -> list[Cord]:
        return self._cords

    @property
    def jobs(self) -> list[Job]:
        return self._jobs

    @property
    def startup_hooks(self) -> list[Hook]:
        return sorted(self._startup_hooks, key=lambda h: h.priority)

    @property
    def shutdown_hooks(self) -> list[Hook]:
        return sorted(self._shutdown_hooks, key=lambda h: h.priority)

    def cord(self, **kwargs: Any) -> Cord:
        """Decorator: serve the decorated function as a cord."""
        return Cord(self, **kwargs)

    def job(self, **kwargs: Any) -> Job:
        return Job(self, **kwargs)

    def on_startup(self, priority: int = 50) -> Callable[[Callable], Callable]:
        return self._hook(self._startup_hooks, priority)

    def on_shutdown(self, priority: int = 50) -> Callable[[Callable], Callable]:
        return self._hook(self._shutdown_hooks, priority)

    def _hook(self, hooks: list[Hook], priority: int) -> Callable[[Callable], Callable]:
        _check(
            isinstance(priority, int) and not isinstance(priority, bool),
            "priority",
            f"hook priority must be an integer, got {priority!r}",
            "use e.g. priority=10 (lower runs first)",
        )

        def decorator(func: Callable) -> Callable:
            hooks.append(Hook(func, priority))
            return func

        return decorator

    def __repr__(self) -> str:
        return f"Chute({self.username}/{self.name}, {len(self._cords)} cords)"


class ChutePack:
    """What the SDK's templates return: the chute plus template-specific extras."""

    def __init__(self, chute: Chute, **extras: Any) -> None:
        self.chute = chute
        for key, value in extras.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"ChutePack({self.chute!r})"
