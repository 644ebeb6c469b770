"""The one function that turns definitions into the bytes that get hashed.

Deterministic msgpack (sorted map keys, tuples as arrays) with a format
version in front. Anything that changes a build result goes through here;
display labels never do.
"""

from __future__ import annotations

from typing import Any

import msgspec

#: Bumped whenever the encoding or the payload of any node changes shape.
#: Changing it invalidates every cached result, which is the point.
FORMAT_VERSION = 1

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def canonical_bytes(obj: Any) -> bytes:
    """Encode ``obj`` deterministically: same value, same bytes, on every machine."""
    return _encoder.encode((FORMAT_VERSION, obj))
