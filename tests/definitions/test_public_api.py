"""The package's public face: errors derive from one root; importing it stays cheap."""

from __future__ import annotations

import chutes_build


def test_every_error_class_derives_from_the_root() -> None:
    errors = [
        getattr(chutes_build, n) for n in chutes_build.__all__ if n.endswith(("Error", "Path"))
    ]
    assert errors and all(issubclass(e, chutes_build.ChutesBuildError) for e in errors)


def test_importing_the_definitions_stays_cheap() -> None:
    """The same classes are imported inside built images: no engine dependencies."""
    import subprocess
    import sys

    code = (
        "import sys, chutes_build, chutes_build.workspace._workspace\n"
        "heavy = ('networkx', 'trio', 'httpx', 'typer', 'rich', 'pydantic', 'starlette')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
