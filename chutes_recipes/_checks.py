"""Definition-time checks of the template arguments.

The SDK looks the model's current commit up on Hugging Face when ``revision``
is missing; chutes-build never touches the network while defining chutes, so
the error names the command that finds the commit instead. Engine flags the
SDK rejects only when the engine starts are rejected here, at definition time.
"""

from __future__ import annotations

import re
from typing import Any

from chutes_build import DefinitionError, warn

__all__ = ["engine_args", "model_name", "revision"]

_REVISION_FLAG = re.compile(r"(?:^|\s)--revision(?:[=\s]|$)", re.I)
_TP_FLAG = re.compile(r"(?:^|\s)--(?:tensor-parallel-size|tp)[=\s]")
_FORBIDDEN = {
    "--served-model-name": "the template serves the model under the chute's name",
    "--api-key": "the template generates a fresh API key when the engine starts",
}


def model_name(template: str, value: Any, field: str = "model_name") -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise DefinitionError(
            f"{template}() needs {field} as a Hugging Face repository id, got {value!r}",
            fix=f"pass e.g. {field}='Qwen/Qwen2.5-0.5B-Instruct'",
            field=f"$.{field}",
        )
    return value


def revision(template: str, model: str, value: Any) -> str:
    """``revision`` must pin the model to one commit; no network lookup is made."""
    if value is None or value == "":
        raise DefinitionError(
            f"{template}() needs revision= to lock {model} to one Hugging Face commit "
            "(the chutes SDK looks the current commit up online; chutes-build never does while "
            "defining chutes)",
            fix=f"pass revision='<40-hex commit sha>'; the current one is printed by "
            f"`git ls-remote https://huggingface.co/{model} refs/heads/main`",
            field="$.revision",
        )
    if not isinstance(value, str) or any(c.isspace() for c in value):
        raise DefinitionError(
            f"{template}() revision must be a commit sha (a string without spaces), got {value!r}",
            fix="pass revision='<40-hex commit sha>'",
            field="$.revision",
        )
    return value


def _flags(template: str, args: dict) -> str:
    words = []
    for key, item in args.items():
        flag = "--" + str(key).replace("_", "-")
        if item is True:
            words.append(flag)
        elif item is not False and item is not None:
            words.append(f"{flag} {item}")
    text = " ".join(words)
    warn(
        f"{template}() engine_args is a dict; it is passed to the engine as {text!r}",
        fix=f"pass the flags as one string: engine_args={text!r} (the chutes SDK 0.6.9 "
        "accepts a dict but fails when the engine starts)",
    )
    return text


def engine_args(
    template: str, value: Any, forbid: tuple[str, ...] = tuple(_FORBIDDEN)
) -> str | None:
    """Reject engine flags the template sets itself (the SDK rejects them at startup).

    A dict (what older SDK releases took, and real chute files still pass) becomes the
    flags it spells, with a warning: SDK 0.6.9 accepts it but fails when the engine
    starts, since it appends flags to the value as to a string."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = _flags(template, value)
    if not isinstance(value, str):
        raise DefinitionError(
            f"{template}() engine_args must be one string of command-line flags, got {value!r}",
            fix="pass e.g. engine_args='--max-model-len 8192'",
            field="$.engine_args",
        )
    if _REVISION_FLAG.search(value):
        raise DefinitionError(
            f"Revision is now a top-level argument to {template}! (engine_args has --revision)",
            fix=f"remove --revision from engine_args and pass {template}(..., revision='<sha>')",
            field="$.engine_args",
        )
    for flag in forbid:
        why = _FORBIDDEN[flag]
        if flag in value:
            raise DefinitionError(
                f"{template}() engine_args may not set {flag}: {why}",
                fix=f"remove {flag} from engine_args",
                field="$.engine_args",
            )
    if len(_TP_FLAG.findall(value)) > 1:
        raise DefinitionError(
            f"{template}() engine_args sets the tensor-parallel size twice",
            fix="use only --tensor-parallel-size (or omit it: the GPU count sets it)",
            field="$.engine_args",
        )
    return value
