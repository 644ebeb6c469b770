"""The builders package's public face: a sorted, complete ``__all__``."""

from __future__ import annotations

import chutes_build.builders as builders


def test_all_is_sorted_and_complete() -> None:
    assert builders.__all__ == sorted(builders.__all__)
    public = {n for n in vars(builders) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(builders, n)).__name__ == "module"}
    assert set(builders.__all__) == public - modules
