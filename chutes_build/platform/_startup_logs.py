"""Encrypted startup logs of a private chute, and live instance logs.

The platform keeps each instance's startup log for a few hours, encrypted to the
chute owner's hotkey: per session an ephemeral Ristretto255 point ``E``; per chunk
``nonce(12) || AES-256-GCM ciphertext`` under
``HKDF-SHA256(ikm=ECDH(owner scalar, E), salt=E || owner public key,
info="chutes-encrypted-logs-v1")``. Only the owner's hotkey seed decrypts them.
Routes (signed with the ``chutes`` purpose): ``GET /encrypted_logs/{chute_id}/sessions``
and ``GET /encrypted_logs/{chute_id}/sessions/{instance_id}/chunks``; they match the
chute id exactly, so a name is resolved first. Live logs: ``GET /instances/{id}/logs``
(purpose ``logs``), server-sent ``data: {"log": …}`` frames (CHUTES_API.md §5).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

from ._account import resolve_chute
from ._client import ChutesClient
from ._errors import PlatformConfigError, PlatformError, PlatformNotFound

__all__ = ["HKDF_INFO", "decrypt_chunks", "fetch_startup_logs", "stream_instance_logs"]

HKDF_INFO = b"chutes-encrypted-logs-v1"


def _owner_keys(seed_hex: str) -> tuple[bytes, bytes]:
    """The hotkey's Ristretto255 secret scalar and its public key."""
    from substrateinterface import Keypair

    keypair = Keypair.create_from_seed(seed_hex=seed_hex)
    return bytes(keypair.private_key[:32]), bytes(keypair.public_key)


def _ristretto():
    try:
        import rbcl
    except ImportError:  # pragma: no cover - depends on the install
        raise PlatformConfigError(
            "decrypting startup logs needs the rbcl package (libsodium's Ristretto255)",
            fix="pip install 'chutes-build[platform]' (or rbcl)",
        ) from None
    return rbcl


def decrypt_chunks(chunks_b64: list[str], seed_hex: str, ephemeral_b64: str) -> list[str]:
    """Decrypt one session's chunks with the owner's hotkey seed."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    scalar, public = _owner_keys(seed_hex)
    ephemeral = base64.b64decode(ephemeral_b64)
    try:
        shared = _ristretto().crypto_scalarmult_ristretto255(scalar, ephemeral)
    except Exception:
        shared = None
    if not shared:
        raise PlatformError(
            "the session's ephemeral key is not a valid Ristretto255 point",
            fix="fetch the logs again; report it if it persists",
        )
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + public, info=HKDF_INFO
    ).derive(shared)
    lines = []
    for chunk in chunks_b64:
        data = base64.b64decode(chunk)
        try:
            plain = AESGCM(key).decrypt(data[:12], data[12:], None)
        except InvalidTag:
            raise PlatformError(
                "a startup log chunk does not decrypt with this hotkey",
                fix="use the config.ini of the chute's owner (the hotkey that deployed it)",
            ) from None
        lines.append(plain.decode("utf-8", errors="replace"))
    return lines


def _pick(sessions: list[dict], instance: str | None, latest: bool, chute: str) -> dict:
    sessions = sorted(sessions, key=lambda s: s.get("started_at") or 0, reverse=True)
    known = ", ".join(str(s.get("instance_id")) for s in sessions)
    if instance:
        for session in sessions:
            if str(session.get("instance_id", "")).startswith(instance):
                return session
        raise PlatformNotFound(
            f"chute {chute} has no startup log of instance {instance}",
            status=404,
            fix=f"use one of: {known}",
        )
    if latest or len(sessions) == 1:
        return sessions[0]
    raise PlatformError(
        f"chute {chute} has {len(sessions)} startup log sessions ({known})",
        fix="pass -l/--latest for the newest, or -i/--instance INSTANCE_ID",
    )


async def fetch_startup_logs(
    client: ChutesClient, chute: str, *, instance: str | None = None, latest: bool = False
) -> dict:
    """Decrypted startup log of one instance: ``{"chute_id", "instance_id", "lines"}``."""
    seed = client.settings.hotkey_seed
    if not seed:
        raise PlatformConfigError(
            "startup logs are encrypted to the owner's hotkey, and none is configured",
            fix="use a config.ini with [auth] hotkey_seed (an API key cannot decrypt them)",
        )
    chute_id = (await resolve_chute(client, chute))["chute_id"]
    sessions = await client.request("GET", f"/encrypted_logs/{chute_id}/sessions", purpose="chutes")
    if not sessions:
        raise PlatformNotFound(
            f"chute {chute} has no startup logs (they expire after 4 hours)",
            status=404,
            fix="start an instance (warm it up) and retry",
        )
    session = _pick(sessions, instance, latest, chute)
    instance_id = str(session["instance_id"])
    data = await client.request(
        "GET", f"/encrypted_logs/{chute_id}/sessions/{instance_id}/chunks", purpose="chutes"
    )
    lines = decrypt_chunks(data["chunks"], seed, session["ephemeral_pubkey"])
    return {"chute_id": chute_id, "instance_id": instance_id, "lines": lines}


async def stream_instance_logs(
    client: ChutesClient, instance_id: str, backfill: int = 100
) -> AsyncIterator[str]:
    """Yield the lines of one instance's live log until the stream ends."""
    response = await client._open_stream(
        f"/instances/{instance_id}/logs", purpose="logs", params={"backfill": str(backfill)}
    )
    try:
        async for raw in response.aiter_lines():
            line = raw.strip()
            if not line.startswith("data:"):
                continue
            try:
                frame = json.loads(line[5:])
            except ValueError:
                continue
            if isinstance(frame, dict) and frame.get("log"):
                yield str(frame["log"]).rstrip("\n")
    finally:
        await response.aclose()
