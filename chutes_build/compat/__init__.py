"""The ``chutes.*`` modules that let files written for the SDK load unmodified.

``sdk_aliases`` installs an import hook while chute files are imported: every
SDK module a chute file can import is answered with ours (or fails naming the
module and what to use instead); the SDK's templates map to ``chutes_recipes``.
"""

from ._sdk import missing_package, sdk_aliases

__all__ = [
    "missing_package",
    "sdk_aliases",
]
