"""The runtime layer of the local target: the chute's image plus the cord server.

Containers reach no package index, so the server is installed offline from wheels
made on the host:

- a wheel of this project (``chutes_build``'s definitions, ``chutes_runtime``,
  ``chutes_recipes``; the engine's subpackages graph/cache/builders/cli/platform
  are left out),
  written here directly from the package folders with fixed timestamps: the same
  sources give the same bytes, so its digest is a stable cache key (``pip wheel``
  stamps the build time into the archive and needs setuptools; this takes a few
  milliseconds and works from an installed copy too);
- msgspec, starlette, uvicorn and their dependencies, at the versions installed
  here, downloaded once per image Python (``pip download --only-binary``) into
  ``<cache>/wheels/<python tag>/`` and reused.

They are installed with ``--no-index --no-deps`` into a venv at
``/opt/chutes-runtime`` through a bind mount of the build context, so the wheel
files never land in the image. trio, networkx and httpx are never installed.
The layer's key holds the image key, the image's Python and every wheel's digest.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import msgspec
import trio

from .._errors import BuildError
from .._version import __version__
from ..cache import Store, hash_file
from ._buildkit import BuildRequest
from ._docker import DockerClient, docker_command

__all__ = [
    "RUNTIME_DEPS",
    "RUNTIME_PREFIX",
    "PythonInfo",
    "probe_python",
    "project_wheel",
    "runtime_request",
    "runtime_wheels",
    "wheel_digests",
]

#: What the runtime imports besides the definitions (and what they import).
RUNTIME_DEPS = (
    "msgspec", "starlette", "uvicorn", "anyio", "h11", "click", "idna", "sniffio",
    "typing_extensions",
)  # fmt: skip
RUNTIME_PREFIX = "/opt/chutes-runtime"
_PACKAGES = ("chutes_build", "chutes_runtime", "chutes_recipes")
#: The build engine's own subpackages: never needed (nor wanted) inside an image, and
#: leaving them out keeps the runtime layer's key steady while they change.
_ENGINE_ONLY = ("chutes_build/graph", "chutes_build/cache", "chutes_build/builders",
                "chutes_build/cli", "chutes_build/platform")  # fmt: skip
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PROBE = (
    "import platform,sys;"
    "print('%d.%d' % sys.version_info[:2], platform.machine(), sys.implementation.name)"
)


class PythonInfo(msgspec.Struct, frozen=True):
    """The image's Python: ``version`` ("3.11"), ``machine`` ("x86_64"), ``impl``."""

    version: str
    machine: str
    impl: str = "cpython"

    @property
    def tag(self) -> str:
        return f"cp{self.version.replace('.', '')}-{self.machine}"


async def probe_python(docker: DockerClient, ref: str, image_id: str, store: Store) -> PythonInfo:
    """Ask ``ref``'s ``python3`` for its version once; the answer is kept per image id."""
    name = image_id.rpartition(":")[2][:64] or "unknown"
    found = store.load_struct("python-probe", name, PythonInfo)
    if found is not None:
        return found
    args = ["run", "--rm", "--network=none", "--entrypoint", "python3", ref, "-c", _PROBE]
    try:
        out = await docker_command(docker, args)
    except BuildError as exc:
        raise BuildError(
            f"image {ref} has no working python3 to install the chutes runtime into: {exc.message}",
            fix="start the image from a Python base (the local target runs the chute with it)",
        ) from None
    version, machine, impl = out.split()
    info = PythonInfo(version, machine, impl)
    store.save_struct("python-probe", name, info)
    return info


# -- the project wheel ----------------------------------------------------------------


def _package_files() -> list[tuple[str, str]]:
    """``(archive name, source path)`` of every file of the three packages."""
    import chutes_build

    site = os.path.dirname(os.path.dirname(os.path.abspath(chutes_build.__file__)))
    files = []
    for package in _PACKAGES:
        top = os.path.join(site, package)
        for folder, dirs, names in os.walk(top):
            rel = os.path.relpath(folder, site).replace(os.sep, "/")
            dirs[:] = sorted(
                d for d in dirs if d != "__pycache__" and f"{rel}/{d}" not in _ENGINE_ONLY
            )
            for name in sorted(names):
                if not name.endswith((".pyc", ".pyo")):
                    path = os.path.join(folder, name)
                    files.append((os.path.relpath(path, site).replace(os.sep, "/"), path))
    return files


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(target: str) -> None:
    dist = f"chutes_build-{__version__}.dist-info"
    meta = {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: chutes-build\nVersion: {__version__}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: chutes-build\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist}/top_level.txt": "".join(f"{p}\n" for p in _PACKAGES),
    }
    records = []
    # A name of its own: two processes sharing a cache folder never write one file (issue 7).
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".wheel-")
    os.close(fd)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [(name, open(path, "rb").read()) for name, path in _package_files()]
        entries += [(name, text.encode()) for name, text in meta.items()]
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data)
            records.append(_record_line(name, data))
        records.append(f"{dist}/RECORD,,")
        archive.writestr(zipfile.ZipInfo(f"{dist}/RECORD", _ZIP_TIME), "\n".join(records) + "\n")
    os.replace(tmp, target)


def _signature() -> str:
    parts = []
    for name, path in _package_files():
        stat = os.stat(path)
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def project_wheel(folder: str) -> str:
    """A reproducible wheel of this project in ``folder`` (same sources, same bytes).

    Rewritten only when a source file's size or mtime changed since the last one.
    """
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, f"chutes_build-{__version__}-py3-none-any.whl")
    stamp = target + ".signature"
    signature = _signature()
    if os.path.exists(target) and os.path.exists(stamp):
        with open(stamp) as handle:
            if handle.read() == signature:
                return target
    _write_wheel(target)
    with open(stamp, "w") as handle:
        handle.write(signature)
    return target


# -- dependency wheels ------------------------------------------------------------------


def _pins() -> list[str]:
    pins = []
    for name in RUNTIME_DEPS:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def _download(folder: str, python: PythonInfo) -> None:
    pins = _pins()
    argv = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--no-deps", "--python-version", python.version,
        "--implementation", "cp", "-d", folder,
    ]  # fmt: skip
    for platform in ("manylinux_2_17", "manylinux2014", "manylinux_2_28"):
        argv += ["--platform", f"{platform}_{python.machine}"]
    proc = subprocess.run([*argv, *pins], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(
            f"cannot fetch the runtime's wheels for Python {python.version} "
            f"({' '.join(pins)}): {proc.stderr.strip()[-800:]}",
            fix="let pip reach a package index once (the wheels are then cached in the "
            "chutes-build cache folder), or put the wheels there by hand",
        )
    with open(os.path.join(folder, "complete"), "w") as handle:
        handle.write("\n".join(pins) + "\n")


def _dependency_wheels(cache_dir: str, python: PythonInfo) -> list[str]:
    folder = os.path.join(cache_dir, "wheels", python.tag)
    stamp = os.path.join(folder, "complete")
    want = "\n".join(_pins()) + "\n"
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        _download_into_place(folder, python, stamp, want)
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".whl"))


def _download_into_place(folder: str, python: PythonInfo, stamp: str, want: str) -> None:
    """Download into a fresh folder and rename it into place once complete, so a process
    killed mid-download never leaves a torn wheel under the final folder (issue 7)."""
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    fresh = tempfile.mkdtemp(dir=parent, prefix=f".{python.tag}-")
    try:
        _download(fresh, python)
        for _ in range(2):
            try:
                os.rename(fresh, folder)
                return
            except OSError:  # a folder is there: another process's, or an outdated one
                if os.path.exists(stamp) and open(stamp).read() == want:
                    return
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


async def runtime_wheels(cache_dir: str, python: PythonInfo) -> dict[str, str]:
    """``{file name: path}`` of every wheel the runtime layer installs for ``python``."""

    def collect() -> dict[str, str]:
        paths = _dependency_wheels(cache_dir, python)
        paths.append(project_wheel(os.path.join(cache_dir, "wheels", "project")))
        return {os.path.basename(p): p for p in paths}

    return await trio.to_thread.run_sync(collect)


def wheel_digests(wheels: dict[str, str]) -> dict[str, str]:
    """``{file name: content digest}``: what the runtime layer's key holds."""
    return {name: hash_file(path) for name, path in sorted(wheels.items())}


def runtime_request(
    parent: str, wheels: dict[str, str], tag: str, network: str | None
) -> BuildRequest:
    """The build of the runtime layer on top of ``parent``."""
    names = " ".join(f"/tmp/wheels/{name}" for name in sorted(wheels))
    line = (
        "RUN --mount=type=bind,source=wheels,target=/tmp/wheels "
        f"python3 -m venv --without-pip {RUNTIME_PREFIX} && "
        f"python3 -m pip --python {RUNTIME_PREFIX}/bin/python install --quiet --no-index "
        f"--no-deps --disable-pip-version-check {names}"
    )
    return BuildRequest(
        parent=parent,
        lines=[line],
        tag=tag,
        context={f"wheels/{name}": path for name, path in wheels.items()},
        network=network,
    )
