"""Request bodies for the platform: the image upload form and the deploy body.

Bodies are rendered once to bytes; those exact bytes are hashed for the
signature and sent (CHUTES_API.md §1.1). Nothing here pickles anything: the
upload's ``image`` field carries base64 of a JSON description (the server only
stores that field; the SDK sends a pickle there).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import secrets
import stat
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import xxhash

from ..cache import NotRegularFile, open_regular
from ..core import DeployError
from ..definitions import ChangedWhileBuilding, Chute, Image
from ..workspace import secret_reason
from ._errors import SecretFileRefused

__all__ = [
    "ContextArchive",
    "build_context",
    "chute_definition",
    "deploy_body",
    "encode_json",
    "encode_multipart",
    "image_digest",
    "image_fields",
]

FILENAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.py$")
REF_STR_RE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FileSource = str | bytes | os.PathLike


def encode_json(obj: Any) -> bytes:
    """Compact JSON (no spaces), like the SDK's orjson bodies."""
    return msgspec.json.encode(obj)


@dataclass(frozen=True)
class ContextArchive:
    """A build context: a deterministic zip of the given files and its digest."""

    data: bytes
    files: tuple[str, ...]
    digest: str


def _normalise(rel: str) -> str:
    rel = rel.replace("\\", "/")
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if rel.startswith("/") or not parts or ".." in parts:
        raise SecretFileRefused(
            f"build context path {rel!r} is not a relative path inside the context",
            fix="give context files as paths relative to the chute's folder",
        )
    return "/".join(parts)


def _read(source: FileSource) -> tuple[bytes, int]:
    """The bytes of ``source`` and its full permission bits (a FIFO never blocks)."""
    if isinstance(source, bytes):
        return source, 0o644
    fd, st = open_regular(os.fspath(source))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(), stat.S_IMODE(st.st_mode)


def _check_expected(rel: str, data: bytes, mode: int, expected: Mapping) -> None:
    """The bytes zipped must be the bytes the image's key was computed from."""
    if rel in expected and (xxhash.xxh3_128_hexdigest(data), mode) != tuple(expected[rel]):
        raise ChangedWhileBuilding(rel, "the upload zip")


def build_context(
    files: Mapping[str, FileSource],
    explicit: Collection[str] = (),
    expected: Mapping[str, tuple[str, int]] | None = None,
) -> ContextArchive:
    """Zip exactly ``files`` (relative path -> file path or bytes), refusing secrets.

    A secret-looking file (see :func:`secret_reason`) is refused unless its
    relative path is in ``explicit`` (files the user named one by one). A file whose
    bytes read for the zip differ from its ``expected`` ``(xxh3-128 digest, mode)``
    (what the image's key was computed from) raises ``ChangedWhileBuilding``.
    """
    allowed = {_normalise(p) for p in explicit}
    expected = expected or {}
    entries: dict[str, tuple[bytes, int]] = {}
    for given, source in files.items():
        rel = _normalise(given)
        try:
            data, mode = _read(source)
        except NotRegularFile as exc:
            raise DeployError(
                f"{rel} is {exc.kind}: only regular files can be uploaded",
                fix="exclude it from the image's add() sources, or move it out of the folder",
            ) from None
        _check_expected(given, data, mode, expected)
        mode = 0o755 if mode & stat.S_IXUSR else 0o644
        reason = secret_reason(rel, data)
        if reason and rel not in allowed:
            raise SecretFileRefused(
                f"refusing to upload {rel}: it looks like {reason}",
                fix="remove it from the image's add() sources, or name the file itself "
                "explicitly if it really belongs in the image",
                file=rel,
            )
        if rel == "Dockerfile":
            raise SecretFileRefused(
                "a context file named Dockerfile at the top would replace the generated one",
                fix="rename the file or add it from a subfolder",
                file=rel,
            )
        entries[rel] = (data, mode)
    buffer = io.BytesIO()
    digest = hashlib.sha256(b"chutes-build/context/v1\0")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in sorted(entries):
            data, mode = entries[rel]
            info = zipfile.ZipInfo(rel, _ZIP_TIME)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            digest.update(f"{rel}\0{mode:o}\0{hashlib.sha256(data).hexdigest()}\0".encode())
    return ContextArchive(buffer.getvalue(), tuple(sorted(entries)), digest.hexdigest())


def image_digest(dockerfile: str, archive: ContextArchive, logo_digest: str | None = None) -> str:
    """Content digest of a remote image: its Dockerfile text, its context files and its
    logo's digest when it has one (without one, the digest is what it always was)."""
    payload = (
        b"chutes-build/remote-image/v1\0" + dockerfile.encode() + b"\0" + archive.digest.encode()
    )
    if logo_digest:
        payload += b"\0logo\0" + logo_digest.encode()
    return hashlib.sha256(payload).hexdigest()


def _image_description(image: Image, dockerfile: str, digest: str) -> str:
    description = {
        "format": "chutes-build/image-description/v1",
        "username": image.username,
        "name": image.name,
        "tag": image.tag,
        "readme": image.readme,
        "dockerfile": dockerfile,
        "content_digest": digest,
    }
    return base64.b64encode(encode_json(description)).decode()


def image_fields(
    image: Image, archive: ContextArchive, *, public: bool = False, logo_id: str | None = None
) -> list[tuple[str, Any]]:
    """The multipart fields of ``POST /images/``, in the SDK's order (§3.2)."""
    dockerfile = str(image)
    digest = image_digest(dockerfile, archive)
    return [
        ("username", image.username),
        ("name", image.name),
        ("tag", image.tag),
        ("readme", image.readme or ""),
        ("dockerfile", dockerfile),
        ("public", str(bool(public))),
        ("logo_id", str(logo_id) if logo_id else "__none__"),
        ("wait", "False"),
        ("image", _image_description(image, dockerfile, digest)),
        ("build_context", ("chute.zip", archive.data, "application/zip")),
    ]


def encode_multipart(
    fields: list[tuple[str, Any]], boundary: str | None = None
) -> tuple[bytes, str]:
    """Render a whole multipart/form-data body in memory; return it and its Content-Type."""
    boundary = boundary or secrets.token_hex(16)
    out = io.BytesIO()
    for name, value in fields:
        out.write(f"--{boundary}\r\n".encode())
        if isinstance(value, tuple):
            filename, data, content_type = value
            out.write(
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
            )
            out.write(data)
        else:
            out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            out.write(str(value).encode())
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _port(port: Any) -> dict[str, Any]:
    if isinstance(port, Mapping):
        return {"name": port["name"], "port": port["port"], "proto": port["proto"]}
    return {"name": port.name, "port": port.port, "proto": port.proto}


def _job(job: Mapping[str, Any]) -> dict[str, Any]:
    ports = [_port(p) for p in job["ports"]]
    if job.get("ssh") and not any(p["port"] == 2202 for p in ports):
        ports.append({"name": "ssh", "port": 2202, "proto": "tcp"})
    return {"ports": ports, "timeout": job["timeout"], "name": job["name"],
            "upload": job["upload"]}  # fmt: skip


def _check_refs(filename: str, ref_str: str) -> None:
    if not FILENAME_RE.match(filename):
        raise DeployError(
            f"chute filename {filename!r} is not accepted by the platform "
            "(must match ^[a-z][a-z0-9_]*\\.py$)",
            fix="rename the chute file to lowercase letters, digits and underscores",
            field="$.filename",
        )
    if not REF_STR_RE.match(ref_str):
        raise DeployError(
            f"chute reference {ref_str!r} is not accepted by the platform "
            "(must match ^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$)",
            fix="use a lowercase module name and a lowercase variable name, e.g. my_chute:chute",
            field="$.ref_str",
        )


#: The chute settings the deploy body carries, by name (as in a deploy node's definition).
_SETTINGS = ("tagline", "readme", "concurrency", "max_instances", "scaling_threshold",
             "shutdown_after_seconds", "allow_external_egress", "encrypted_fs", "tee",
             "lock_modules")  # fmt: skip


def chute_definition(chute: Chute) -> dict[str, Any]:
    """A live ``Chute`` as the definition :func:`deploy_body` reads: the shape of a deploy
    node's ``definition`` in the build graph (cords keep their own key order)."""
    jobs = [{"name": j.name, "ports": j.ports, "timeout": j.timeout, "upload": j.upload,
             "ssh": j.ssh} for j in chute.jobs]  # fmt: skip
    return {
        "name": chute.name,
        "standard_template": chute.standard_template,
        "revision": chute.revision,
        "settings": {name: getattr(chute, name) for name in _SETTINGS},
        "cords": [cord.definition() for cord in chute.cords],
        "jobs": jobs,
        "node_selector": chute.node_selector.dict() if chute.node_selector else None,
    }


def deploy_body(
    chute: Chute | Mapping[str, Any],
    *,
    code: str,
    filename: str,
    ref_str: str,
    image: str | None = None,
    public: bool = False,
    logo_id: str | None = None,
    file: str | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /chutes/`` with every field the SDK sends (§4.2): the one
    body, from a deploy node's ``definition`` (or a live ``Chute``, read the same way).

    ``image`` is the image's platform id or the prebuilt reference (a live chute's own
    image by default); ``file`` names the chute file in errors."""
    if isinstance(chute, Chute):
        image = image or (chute.image.uid if isinstance(chute.image, Image) else chute.image)
        chute = chute_definition(chute)
    _check_refs(filename, ref_str)
    if chute["node_selector"] is None:
        raise DeployError(
            f"chute {chute['name']} has no node_selector; the platform requires one",
            fix="pass node_selector=NodeSelector(gpu_count=1, min_vram_gb_per_gpu=16)",
            file=file,
            field="$.node_selector",
        )
    settings = chute["settings"]
    return {
        "name": chute["name"], "tagline": settings["tagline"], "readme": settings["readme"],
        "logo_id": logo_id, "image": image, "public": bool(public),
        "standard_template": chute["standard_template"],
        "node_selector": dict(chute["node_selector"]),
        "filename": filename, "ref_str": ref_str, "code": code,
        **{name: settings[name] for name in _SETTINGS[2:]},
        "revision": chute["revision"],
        "cords": [dict(c) for c in chute["cords"]],
        "jobs": [_job(j) for j in chute["jobs"]],
    }  # fmt: skip
