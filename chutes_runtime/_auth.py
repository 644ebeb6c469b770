"""Validator request signatures (CHUTES_API.md §6.3), checked with sr25519.

substrate-interface is imported when a verifier is built (production mode only).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

__all__ = ["SignatureVerifier"]


class SignatureVerifier:
    """Checks ``X-Chutes-{Miner,Validator,Nonce,Signature}`` against the CLI's hotkeys."""

    def __init__(
        self,
        miner_ss58: str,
        validator_ss58: str,
        window_s: int = 540,
        clock: Callable[[], float] = time.time,
    ) -> None:  # noqa: E501
        from substrateinterface import Keypair, KeypairType

        self.miner, self.validator, self.window, self.clock = (
            miner_ss58,
            validator_ss58,
            window_s,
            clock,
        )
        self._keypair = Keypair(ss58_address=validator_ss58, crypto_type=KeypairType.SR25519)

    def check_headers(self, headers: dict[bytes, bytes]) -> bool:
        """False ("go away (missing)") for absent or foreign keys or a stale nonce."""
        miner, validator = headers.get(b"x-chutes-miner"), headers.get(b"x-chutes-validator")
        nonce, signature = headers.get(b"x-chutes-nonce"), headers.get(b"x-chutes-signature")
        if not (miner and validator and nonce and signature):
            return False
        if miner.decode() != self.miner or validator.decode() != self.validator:
            return False
        try:
            return int(self.clock()) - int(nonce) < self.window
        except ValueError:
            return False

    def verify(self, headers: dict[bytes, bytes], body: bytes | None) -> bool:
        """The signature over ``miner:validator:nonce:(sha256(body) | "chutes")``."""
        payload = hashlib.sha256(body).hexdigest() if body else "chutes"
        message = ":".join(
            (self.miner, self.validator, headers[b"x-chutes-nonce"].decode(), payload)
        )
        try:
            return bool(
                self._keypair.verify(
                    message, bytes.fromhex(headers[b"x-chutes-signature"].decode())
                )
            )
        except (ValueError, TypeError):
            return False
