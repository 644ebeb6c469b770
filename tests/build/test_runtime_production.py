"""``runtime-production``: the runtime layer carries production mode's packages.

With the workspace setting on, the runtime layer imports cryptography, substrateinterface
and ``chutes_runtime._production`` with no network; switching it off (``--runtime dev``)
rebuilds only the runtime layer, and that layer has no cryptography.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chutes_build.engine._runtime_layer import PythonInfo, production_pins

from .conftest import make_monorepo

pytestmark = pytest.mark.docker

PROBE = "import cryptography, substrateinterface; from chutes_runtime import _production"
ABSENT = "import importlib.util as u; print(u.find_spec('cryptography') is None)"


def _up(repo, *extra: str) -> tuple[dict, list[str]]:
    start = repo.log.stat().st_size if repo.log.exists() else 0
    proc = repo.cli("up", "--target", "local", "--json", *extra)
    summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
    return summary, repo.builds(start)


def _python(repo, image: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [repo.docker, "run", "--rm", "--network=none", image,
         "/opt/chutes-runtime/bin/python", "-c", code],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_production_pins_are_the_host_closure_without_the_dev_set() -> None:
    pins = production_pins(PythonInfo("3.12", "x86_64"))
    names = {pin.partition("==")[0] for pin in pins}
    assert {"cryptography", "substrate-interface", "cffi", "py-sr25519-bindings"} <= names
    assert not names & {"msgspec", "starlette", "uvicorn", "idna", "typing-extensions"}
    assert all("==" in pin for pin in pins if pin.partition("==")[0] in
               {"cryptography", "substrate-interface"})  # fmt: skip


def test_runtime_production_setting_adds_its_packages_and_dev_drops_them(
    tmp_path, docker_engine, python_base_image
) -> None:
    repo = make_monorepo(tmp_path, docker_engine, python_base_image, ["one"])
    pyproject = repo.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "runtime-production = true\n")
    try:
        first, builds = _up(repo)
        assert not first["failed"], first["failed"]
        assert first["chutes"][0]["state"] == "started"
        production = [t for t in builds if t.startswith("chutes-build/runtime:")]
        assert len(production) == 1, builds
        proc = _python(repo, production[0], PROBE)
        assert proc.returncode == 0, proc.stderr[-2000:]

        second, builds = _up(repo, "--runtime", "dev")
        assert not second["failed"], second["failed"]
        # Only the runtime layer is rebuilt (on the stage of the other wheel set); the chute
        # restarts on it.
        assert [t.split(":")[0] for t in builds] == [
            "chutes-build/runtime-stage",
            "chutes-build/runtime",
        ], builds
        assert builds[1] != production[0]
        assert second["chutes"][0]["state"] == "restarted"
        proc = _python(repo, builds[1], ABSENT)
        assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr[-2000:]
    finally:
        repo.cleanup()


def test_an_unobtainable_optional_wheel_is_left_out_quietly(tmp_path, monkeypatch) -> None:
    """graval is optional: when pip cannot get it, the production set is made without it
    (and pip is not asked again while the pins stay the same)."""
    from chutes_build.engine import _runtime_layer as layer

    asked = []

    def download(folder, python, pins=None) -> None:
        for pin in pins:
            name = pin.partition("==")[0].replace("-", "_")
            (Path(folder) / f"{name}-1-py3-none-any.whl").write_bytes(b"PK")

    def pip_download(python, folder, names, deps=False):
        asked.append(names)
        return subprocess.CompletedProcess([], 1, "", "no graval here")

    monkeypatch.setattr(layer, "_download", download)
    monkeypatch.setattr(layer, "_pip_download", pip_download)
    python = PythonInfo("3.11", "x86_64")
    found = [p.rsplit("/", 1)[1] for p in layer._production_wheels(str(tmp_path), python)]
    assert "cryptography-1-py3-none-any.whl" in found
    assert not any(name.startswith("graval") for name in found)
    assert asked == [layer._pins(layer.OPTIONAL_DEPS)]
    assert layer._production_wheels(str(tmp_path), python) and len(asked) == 1
