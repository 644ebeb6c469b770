"""The graph package stays cheap to import: planning needs no networkx."""

from __future__ import annotations

import subprocess
import sys


def isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (the order ruff's RUF022 keeps)."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)




def test_planning_does_not_import_networkx():
    code = (
        "import sys, chutes_build.graph; "
        "print([m for m in sys.modules if m.startswith('networkx')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
