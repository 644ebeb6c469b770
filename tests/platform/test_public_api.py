"""The platform package loads substrate only when signing needs it."""

from __future__ import annotations

import subprocess
import sys


def _isort_key(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name



def test_importing_the_package_does_not_load_substrate():
    code = (
        "import sys, chutes_build.platform, chutes_build.cli; "
        "print('substrateinterface' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_definitions_do_not_import_the_platform_client():
    code = (
        "import sys, chutes_build; print(sorted(m for m in ('httpx', 'trio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
