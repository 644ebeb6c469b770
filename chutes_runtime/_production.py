"""Production start-up: the launch handshake with the validator (CHUTES_API.md §6.2).

The aegis-specific parts (runtime-integrity commitment, TLS material, ML-KEM,
envdump/netnanny attestation) are left out; what remains is the part every
runtime needs: fetch a nonce, send the GPU inventory and our X25519 key, prove
the GPUs with GraVal, decrypt the symmetric key on the named GPU, answer the
challenge, derive the session key from the validator's X25519 key, install the
code and secrets, and call the activation URL once the port listens.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import secrets
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from chutes_build.core import ChutesBuildError

from ._auth import SignatureVerifier
from ._crypto import SessionCipher, aes_cbc_encrypt, derive_session_key
from ._graval import GravalGpu, decrypt_symmetric_key
from ._loader import split_target
from ._secure import SecureGate
from ._settings import Settings
from ._upstream import fetch

__all__ = ["LaunchError", "Production", "jwt_claims"]

log = logging.getLogger("chutes_runtime")


class LaunchError(ChutesBuildError):
    """Production start-up failed (missing settings, or the validator refused us)."""


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, unverified (the instance cannot verify the platform's ES256 key)."""
    try:
        payload = token.split(".")[1]
        return msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, msgspec.DecodeError) as exc:
        raise LaunchError(
            f"CHUTES_LAUNCH_JWT is not a JWT: {exc}", fix="pass the token the platform issued"
        ) from None


async def _call(url: str, method: str, jwt: str, body: Any = None) -> bytes:
    headers = {"Authorization": jwt}
    data = b""
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = msgspec.json.encode(body)
    try:
        status, answer = await fetch(url, method, headers, data)
    except (OSError, TimeoutError) as exc:
        raise LaunchError(
            f"cannot reach the validator at {url}: {exc}", fix="check the JWT's url claim"
        ) from None
    if status != 200:
        raise LaunchError(
            f"{method} {url} answered {status}: {answer[:300]!r}", fix="check the validator's log"
        )
    return answer


class Production:
    """The session established at launch: cipher, verifier, GPU part, activation URL."""

    def __init__(
        self, settings: Settings, gpu: Any, verifier: Any, cipher: SessionCipher, launch: dict
    ) -> None:  # noqa: E501
        self.settings, self.gpu, self.cipher, self.launch_response = settings, gpu, cipher, launch
        self.verifier = verifier
        self.gate = SecureGate(verifier, cipher, settings.max_body_bytes)

    @classmethod
    async def launch(cls, settings: Settings, gpu: Any = None) -> Production:
        """Check the settings, run the handshake, install code and secrets."""
        verifier = _verifier(settings)
        gpu = gpu if gpu is not None else GravalGpu()
        session, done = await _handshake(settings, gpu, settings.launch_jwt or "")
        _install(settings, done)
        log.info("launch handshake complete: instance %s", done.get("instance_id"))
        return cls(settings, gpu, verifier, SessionCipher(session), done)

    async def activate(self, tries: int = 10, pause_s: float = 1.0) -> bool:
        """GET the activation URL once listening; a 423 stops retrying."""
        url = self.launch_response.get("activation_url")
        if not url:
            return False
        for attempt in range(tries):
            try:
                status, _ = await fetch(
                    url, "GET", {"Authorization": self.settings.launch_jwt or ""}
                )
            except OSError as exc:
                status = 0
                log.warning("activation attempt %d failed: %s", attempt + 1, exc)
            if status == 200:
                log.info("instance activated")
                return True
            if status == 423:
                log.error("activation refused (423)")
                return False
            await asyncio.sleep(pause_s)
        return False


def _verifier(settings: Settings) -> SignatureVerifier:
    if not (settings.miner_ss58 and settings.validator_ss58):
        raise LaunchError(
            "production mode needs --miner-ss58 and --validator-ss58", fix="pass both, or use --dev"
        )
    if not settings.launch_jwt:
        raise LaunchError(
            "production mode needs CHUTES_LAUNCH_JWT",
            fix="set it (the platform does), or use --dev",
        )
    try:
        return SignatureVerifier(
            settings.miner_ss58, settings.validator_ss58, settings.nonce_window_s
        )
    except ValueError as exc:
        raise LaunchError(f"invalid hotkey address: {exc}", fix="pass ss58 addresses") from None


async def _handshake(settings: Settings, gpu: Any, jwt: str) -> tuple[bytes, dict]:
    """Steps 1-6 of CHUTES_API.md §6.2 without aegis: ``(session key, PUT /graval answer)``."""
    claims = jwt_claims(jwt)
    url = claims["url"].rstrip("/")
    nonce = (await _call(f"{url}/nonce", "GET", jwt)).decode().strip().strip('"')
    rint_nonce = nonce if re.fullmatch(r"[0-9a-fA-F]{32}", nonce) else secrets.token_hex(16)
    key = X25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    inventory = _inventory(settings, gpu, claims, rint_nonce, pub)
    init = msgspec.json.decode(await _call(f"{url}/graval", "POST", jwt, inventory))
    proofs = gpu.prove(init["seed"], init.get("iterations", 1))
    symmetric = decrypt_symmetric_key(gpu, init["seed"], init["symmetric_key"])
    iv, answer = aes_cbc_encrypt(symmetric, init["symmetric_key"]["response_plaintext"])
    reply = {"response": answer, "iv": iv.hex(), "proof": proofs}
    done = msgspec.json.decode(await _call(f"{url}/graval", "PUT", jwt, reply))
    validator_pub = bytes.fromhex(init["validator_pubkey"])
    session = derive_session_key(key, validator_pub, pub, validator_pub, bytes.fromhex(rint_nonce))
    return session, done


def _inventory(settings: Settings, gpu: Any, claims: dict, rint_nonce: str, pub: bytes) -> dict:
    return {
        "gpus": gpu.devices(),
        "port_mappings": settings.port_mappings,
        "host": settings.external_host,
        "rint_nonce": rint_nonce,
        "rint_pubkey": pub.hex(),
        "egress": claims.get("egress", False),
        "lock_modules": claims.get("lock_modules", False),
        "run_path": os.path.abspath(__file__),
    }


def _install(settings: Settings, done: dict) -> None:
    """Write the validator's copy of the chute code (when it differs) and export secrets."""
    code = done.get("code")
    if code:
        path, _ = split_target(settings.target)
        current = open(path).read() if os.path.isfile(path) else None
        if current != code:
            with open(path, "w") as handle:
                handle.write(code)
    for name, value in (done.get("secrets") or {}).items():
        os.environ[str(name)] = str(value)
