"""The one key function: every graph node's key is computed here and nowhere else.

``key = xxh3_128(canonical_bytes((kind, payload, input keys)))``: a Merkle
hash, so a node's key changes exactly when its own payload or any input's
key changes. Display labels never reach this function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xxhash

from ._canonical import canonical_bytes

__all__ = ["digest_of", "node_key"]


def node_key(kind: str, payload: Any, inputs: Sequence[str] = ()) -> str:
    """The key of a ``kind`` node with ``payload`` whose inputs have keys ``inputs`` (in order)."""
    return digest_of((kind, payload, tuple(inputs)))


def digest_of(value: Any) -> str:
    """A digest of a plain value (for summaries such as a chute's code digest)."""
    return xxhash.xxh3_128_hexdigest(canonical_bytes(value))
