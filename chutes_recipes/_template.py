"""The part every template shares: checking its arguments and building its ``Chute``.

The templates keep the SDK's signatures; each passes its arguments on as its
``locals()``, and the helpers here read the parameters they need by name (the
shared ones go to :class:`~chutes_build.Chute` unchanged; other locals are ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from chutes_build import Chute

from . import _checks

__all__ = ["EngineChute", "engine_chute", "template_chute"]

#: Template arguments that every template passes to ``Chute()`` as they are.
_CHUTE_ARGS = (
    "username",
    "tagline",
    "readme",
    "image",
    "node_selector",
    "concurrency",
    "shutdown_after_seconds",
    "max_instances",
    "scaling_threshold",
    "tee",
)
#: The engine templates (vLLM, SGLang, embedding) pass egress on as well.
_ENGINE_CHUTE_ARGS = (*_CHUTE_ARGS, "allow_external_egress")


class EngineChute(NamedTuple):
    """An engine template's chute and its checked ``engine_args`` and ``revision``."""

    chute: Chute
    engine_args: str | None
    revision: str


def template_chute(
    standard_template: str,
    args: Mapping[str, Any],
    names: tuple[str, ...] = _CHUTE_ARGS,
    **options: Any,
) -> Chute:
    """The template's chute: ``args[name]`` for each of ``names``, plus ``options``."""
    shared = {name: args[name] for name in names}
    return Chute(standard_template=standard_template, **shared, **options)


def engine_chute(
    template: str,
    standard_template: str,
    args: Mapping[str, Any],
    forbid: tuple[str, ...] | None = None,
) -> EngineChute:
    """Check an engine template's arguments (its ``locals()``) and build its chute.

    ``template`` names the template function in error messages; ``forbid``
    overrides the engine flags :func:`chutes_recipes._checks.engine_args` rejects.
    """
    flags = {} if forbid is None else {"forbid": forbid}
    engine_args = _checks.engine_args(template, args["engine_args"], **flags)
    model_name = args["model_name"]
    _checks.model_name(template, model_name)
    revision = _checks.revision(template, model_name, args["revision"])
    name = args["name"] or model_name  # SDK 0.6.11: a chute name other than the model's
    chute = template_chute(
        standard_template, args, _ENGINE_CHUTE_ARGS, name=name, revision=revision
    )
    return EngineChute(chute, engine_args, revision)
