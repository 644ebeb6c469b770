"""The runtime layer's wheels and the image's Python, for the local target's cord server.

Containers reach no package index, so the server is installed offline from wheels
made on the host:

- a wheel of this project: the folders in ``IMAGE_PACKAGES`` (``chutes_build``'s
  core, definitions, workspace loader and SDK aliases, ``chutes_runtime``,
  ``chutes_recipes``) and nothing else,
  written here directly from the package folders with fixed timestamps: the same
  sources give the same bytes, so its digest is a stable cache key (``pip wheel``
  stamps the build time into the archive and needs setuptools; this takes a few
  milliseconds and works from an installed copy too);
- msgspec, starlette, uvicorn and their dependencies, at the versions installed
  here, downloaded once per image Python (``pip download --only-binary``) into
  ``<cache>/wheels/<python tag>/`` and reused.

With ``production`` on (the workspace's ``runtime-production``, or ``up --runtime
production``) the layer also gets what production mode imports (cryptography,
substrate-interface, and graval when its wheel can be had); with ``sdk``, the
``sdk`` extra's packages the chutes' code imports (fastapi, pydantic, ...). Both
are pinned to this environment's versions with their closure (``_runtime_pins``).
A full disk is reported as such, with the folder and its free space.

They are installed once per Python and wheel set into a stage that each chute image
copies (``_runtime_stage``: the stage's key holds the image's Python and every wheel's
digest). trio, networkx and httpx are never installed.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import msgspec

from ..cache import Store, hash_file
from ..core import BuildError, __version__
from ._protocol import DockerEngine
from ._runtime_pins import canonical, pin_closure, sdk_missing

__all__ = [
    "PRODUCTION_DEPS",
    "RUNTIME_DEPS",
    "RUNTIME_PREFIX",
    "PythonInfo",
    "collect_wheels",
    "probe_python",
    "production_pins",
    "project_wheel",
    "runtime_key",
    "runtime_wheels",
    "sdk_pins",
    "stage_key",
    "wheel_digests",
]

#: What the runtime imports besides the definitions (and what they import).
RUNTIME_DEPS = (
    "msgspec", "starlette", "uvicorn", "anyio", "h11", "click", "idna", "sniffio",
    "typing_extensions",
)  # fmt: skip
#: What production mode imports on top (graval too, when its wheel can be had).
PRODUCTION_DEPS = ("cryptography", "substrate-interface")
OPTIONAL_DEPS = ("graval",)
RUNTIME_PREFIX = "/opt/chutes-runtime"
_PACKAGES = ("chutes_build", "chutes_runtime", "chutes_recipes")
#: The build engine's own subpackages: never needed (nor wanted) inside an image, and
#: leaving them out keeps the runtime layer's key steady while they change.
# What goes into images: these folders and nothing else (a new subpackage stays out
# until it is named here). tests/engine/test_image_allow_list.py checks that the
# runtime, loading SDK and native chute files, needs nothing outside them.
IMAGE_PACKAGES = ("chutes_build", "chutes_build/core", "chutes_build/definitions",
                  "chutes_build/workspace", "chutes_build/compat",
                  "chutes_runtime", "chutes_recipes")  # fmt: skip
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_NO_SPACE = re.compile(r"\[Errno 28\]|No space left on device")
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


async def probe_python(docker: DockerEngine, ref: str, image_id: str, store: Store) -> PythonInfo:
    """Ask ``ref``'s ``python3`` for its version once; the answer is kept per image id."""
    name = image_id.rpartition(":")[2][:64] or "unknown"
    found = store.load_struct("python-probe", name, PythonInfo)
    if found is not None:
        return found
    try:
        out = await docker.run_once(ref, ["-c", _PROBE], entrypoint="python3")
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


def package_files() -> list[tuple[str, str]]:
    """``(archive name, source path)`` of every file of the folders in ``IMAGE_PACKAGES``."""
    import chutes_build

    site = os.path.dirname(os.path.dirname(os.path.abspath(chutes_build.__file__)))
    files = []
    for package in _PACKAGES:
        top = os.path.join(site, package)
        for folder, dirs, names in os.walk(top):
            rel = os.path.relpath(folder, site).replace(os.sep, "/")
            dirs[:] = sorted(d for d in dirs if f"{rel}/{d}" in IMAGE_PACKAGES)
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
        entries = [(name, open(path, "rb").read()) for name, path in package_files()]
        entries += [(name, text.encode()) for name, text in meta.items()]
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data)
            records.append(_record_line(name, data))
        records.append(f"{dist}/RECORD,,")
        archive.writestr(zipfile.ZipInfo(f"{dist}/RECORD", _ZIP_TIME), "\n".join(records) + "\n")
    os.replace(tmp, target)


def _signature() -> str:
    parts = []
    for name, path in package_files():
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


def _pins(names: tuple[str, ...] = RUNTIME_DEPS) -> list[str]:
    """``name==version`` of each of ``names`` installed here (the bare name when not)."""
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def _pip_download(python: PythonInfo, folder: str, names: list[str], deps: bool = False):
    argv = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--python-version", python.version, "--implementation", "cp",
        "-d", folder, *([] if deps else ["--no-deps"]),
    ]  # fmt: skip
    for platform in ("manylinux_2_17", "manylinux2014", "manylinux_2_28"):
        argv += ["--platform", f"{platform}_{python.machine}"]
    return subprocess.run([*argv, *names], capture_output=True, text=True)


def _download(folder: str, python: PythonInfo, pins: list[str] | None = None) -> None:
    pins = _pins() if pins is None else pins
    proc = _pip_download(python, folder, pins)
    if proc.returncode != 0 and _NO_SPACE.search(proc.stderr):
        raise disk_full(folder)
    if proc.returncode != 0:
        raise BuildError(
            f"cannot fetch the runtime's wheels for Python {python.version} "
            f"({' '.join(pins)}): {proc.stderr.strip()[-800:]}",
            fix="let pip reach a package index once (the wheels are then cached in the "
            "chutes-build cache folder), or put the wheels there by hand",
        )


def _cached_wheels(folder: str, python: PythonInfo, want: str, fill) -> list[str]:
    """The wheels in ``folder``, made by ``fill(fresh folder)`` unless its stamp says
    they are those of ``want``."""
    stamp = os.path.join(folder, "complete")
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        _download_into_place(folder, python, stamp, want, fill)
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".whl"))


def _dependency_wheels(cache_dir: str, python: PythonInfo) -> list[str]:
    pins = _pins()
    folder = os.path.join(cache_dir, "wheels", python.tag)
    return _cached_wheels(folder, python, "\n".join(pins) + "\n",
                          lambda fresh: _download(fresh, python))  # fmt: skip


def _download_into_place(folder: str, python: PythonInfo, stamp: str, want: str, fill) -> None:
    """Download into a fresh folder and rename it into place once complete, so a process
    killed mid-download never leaves a torn wheel under the final folder (issue 7)."""
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    fresh = tempfile.mkdtemp(dir=parent, prefix=f".{python.tag}-")
    try:
        fill(fresh)
        with open(os.path.join(fresh, "complete"), "w") as handle:
            handle.write(want)
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


# -- production-mode and SDK wheels -----------------------------------------------------


def _production_missing(name: str) -> BuildError:
    return BuildError(
        f"runtime production mode needs {name} installed beside chutes-build "
        "(its version and dependencies are what the image gets)",
        fix="pip install 'chutes-build[platform]' (or the package), or turn "
        "`runtime-production` off",
    )


def production_pins(python: PythonInfo) -> list[str]:
    """``name==version`` of :data:`PRODUCTION_DEPS` and their dependency closure for
    ``python``, from the metadata installed here, less what the dev set holds."""
    return pin_closure(PRODUCTION_DEPS, python.version, python.machine, RUNTIME_DEPS,
                       _production_missing)  # fmt: skip


def sdk_pins(python: PythonInfo, packages: tuple[str, ...]) -> list[str]:
    """``name==version`` of the ``sdk`` extra's ``packages`` a chute imports and their
    closure for ``python`` (from this environment), less what the dev set holds."""
    return pin_closure(packages, python.version, python.machine, RUNTIME_DEPS, sdk_missing)


def _sdk_wheels(cache_dir: str, python: PythonInfo, packages: tuple[str, ...]) -> list[str]:
    pins = sdk_pins(python, packages)
    want = "\n".join(pins) + "\n"
    digest = hashlib.sha256(want.encode()).hexdigest()[:12]
    folder = os.path.join(cache_dir, "wheels", f"{python.tag}-sdk-{digest}")
    return _cached_wheels(folder, python, want, lambda fresh: _download(fresh, python, pins))


def _fill_production(fresh: str, python: PythonInfo, pins: list[str]) -> None:
    """The pinned closure (required), then each optional package with its own
    dependencies where pip can get them (skipped quietly when not)."""
    _download(fresh, python, pins)
    have = {canonical(p.partition("==")[0]) for p in pins} | {canonical(n) for n in RUNTIME_DEPS}
    for name in _pins(OPTIONAL_DEPS):
        extra = os.path.join(fresh, "optional")
        if _pip_download(python, extra, [name], deps=True).returncode == 0:
            for wheel in sorted(os.listdir(extra)):
                if wheel.endswith(".whl") and canonical(wheel.split("-")[0]) not in have:
                    os.replace(os.path.join(extra, wheel), os.path.join(fresh, wheel))
        shutil.rmtree(extra, ignore_errors=True)


def _production_wheels(cache_dir: str, python: PythonInfo) -> list[str]:
    pins = production_pins(python)
    want = "\n".join([*pins, *_pins(OPTIONAL_DEPS)]) + "\n"
    folder = os.path.join(cache_dir, "wheels", f"{python.tag}-production")
    return _cached_wheels(folder, python, want,
                          lambda fresh: _fill_production(fresh, python, pins))  # fmt: skip


def _free(path: str) -> str:
    """Free space on the file system holding ``path`` (or its nearest existing parent)."""
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    try:
        free = shutil.disk_usage(path or "/").free
    except OSError:
        return "unknown space"
    return f"{free / 1024:.0f} KiB" if free < 1 << 20 else f"{free / (1 << 20):.1f} MiB"


def disk_full(folder: str) -> BuildError:
    """The error for ENOSPC while the runtime's wheels are written under ``folder``."""
    return BuildError(
        f"no space left on device while writing the runtime's wheels into {folder} "
        f"({_free(folder)} free there)",
        fix="free space on that disk (`chutes-build cache gc --max-size 5GB`, "
        "`docker system prune`) or point `cache-dir` at a larger one",
    )


def _collect(cache_dir: str, python: PythonInfo, production: bool, sdk: tuple[str, ...]):
    paths = _dependency_wheels(cache_dir, python)
    if production:
        paths += _production_wheels(cache_dir, python)
    if sdk:
        paths += _sdk_wheels(cache_dir, python, sdk)
    paths.append(project_wheel(os.path.join(cache_dir, "wheels", "project")))
    return {os.path.basename(p): p for p in paths}


def collect_wheels(
    cache_dir: str, python: PythonInfo, production: bool = False, sdk: tuple[str, ...] = ()
) -> dict[str, str]:
    """``{file name: path}`` of every wheel the runtime layer installs for ``python``
    (with ``production``, production mode's wheels too; with ``sdk``, those of the
    ``sdk`` extra's packages the chutes import, see ``_runtime_pins.sdk_packages``);
    fetched once into ``cache_dir``, then read from there."""
    try:
        return _collect(cache_dir, python, production, sdk)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise disk_full(os.path.join(cache_dir, "wheels")) from None
        raise


async def runtime_wheels(
    cache_dir: str, python: PythonInfo, production: bool = False, sdk: tuple[str, ...] = ()
) -> dict[str, str]:
    """:func:`collect_wheels` in a worker thread."""
    import trio

    return await trio.to_thread.run_sync(collect_wheels, cache_dir, python, production, sdk)


def wheel_digests(wheels: dict[str, str]) -> dict[str, str]:
    """``{file name: content digest}``: what the runtime layer's key holds."""
    return {name: hash_file(path) for name, path in sorted(wheels.items())}


#: Changes whenever what a stage holds, or where, changes (so old stages are not reused).
_LAYOUT = "target-lib+launcher/1"


def stage_key(python: PythonInfo, digests: dict[str, str]) -> str:
    """The key of the stage for ``python`` and the wheels of ``digests``."""
    from ..graph import node_key

    payload = {"python": python.tag, "impl": python.impl, "wheels": dict(sorted(digests.items())),
               "prefix": RUNTIME_PREFIX, "layout": _LAYOUT}  # fmt: skip
    return node_key("runtime-stage", payload)


def runtime_key(image_key: str, python: PythonInfo, digests: dict[str, str]) -> str:
    """The key of ``image_key``'s runtime layer: the image plus the stage copied onto it."""
    from ..graph import node_key

    payload = {"stage": stage_key(python, digests), "prefix": RUNTIME_PREFIX}
    return node_key("runtime", payload, (image_key,))
