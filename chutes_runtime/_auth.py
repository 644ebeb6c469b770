"""Validator request signatures (CHUTES_API.md §6.3), checked with sr25519.

substrate-interface is imported when a verifier is built (production mode only).

Two checks are stricter than the platform's own instance code (issue 7):

* a nonce more than ``window`` seconds in the *future* is refused like a stale
  one (the platform accepts any future nonce, so a captured request with a
  far-future nonce could be replayed for ever);
* a request whose ``(nonce, signature)`` was already accepted inside the
  window is refused as a replay. :class:`ReplayCache` holds each entry only
  until its nonce leaves the window and never more than ``capacity`` entries.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import time
from collections.abc import Callable

__all__ = ["ReplayCache", "SignatureVerifier"]

log = logging.getLogger("chutes_runtime")


class ReplayCache:
    """Signatures seen, each kept until its nonce is older than ``window`` seconds."""

    def __init__(self, window_s: int, capacity: int = 200_000) -> None:
        self.window, self.capacity = window_s, capacity
        self._seen: set[bytes] = set()
        self._expiry: list[tuple[int, bytes]] = []  # a heap of (nonce, key)

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, nonce: int, signature: bytes, now: int) -> bool:
        """Record ``signature``; False when it was already seen (a replay)."""
        key = hashlib.blake2b(signature, digest_size=16).digest()
        while self._expiry and (
            self._expiry[0][0] <= now - self.window or len(self._seen) >= self.capacity
        ):
            old_nonce, old = heapq.heappop(self._expiry)
            self._seen.discard(old)
            if old_nonce > now - self.window:
                log.warning("replay cache full (%d): forgot an unexpired entry", self.capacity)
        if key in self._seen:
            return False
        self._seen.add(key)
        heapq.heappush(self._expiry, (nonce, key))
        return True


class SignatureVerifier:
    """Checks ``X-Chutes-{Miner,Validator,Nonce,Signature}`` against the CLI's hotkeys."""

    def __init__(
        self,
        miner_ss58: str,
        validator_ss58: str,
        window_s: int = 540,
        clock: Callable[[], float] = time.time,
        replay_capacity: int = 200_000,
    ) -> None:  # noqa: E501
        from substrateinterface import Keypair, KeypairType

        self.miner, self.validator, self.window, self.clock = (
            miner_ss58,
            validator_ss58,
            window_s,
            clock,
        )
        self._miner, self._validator = miner_ss58.encode(), validator_ss58.encode()
        self._keypair = Keypair(ss58_address=validator_ss58, crypto_type=KeypairType.SR25519)
        self.replays = ReplayCache(window_s, replay_capacity)

    def check_headers(self, headers: dict[bytes, bytes]) -> bool:
        """False ("go away (missing)") for absent or foreign keys or a nonce out of the window."""
        miner, validator = headers.get(b"x-chutes-miner"), headers.get(b"x-chutes-validator")
        nonce, signature = headers.get(b"x-chutes-nonce"), headers.get(b"x-chutes-signature")
        if not (miner and validator and nonce and signature):
            return False
        if miner != self._miner or validator != self._validator:  # bytes: no decode errors
            return False
        if not nonce.isdigit() or len(nonce) > 18:
            return False
        return abs(int(self.clock()) - int(nonce)) < self.window

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

    def fresh(self, headers: dict[bytes, bytes]) -> bool:
        """False when this verified request was accepted before (call after :meth:`verify`)."""
        signature = bytes.fromhex(headers[b"x-chutes-signature"].decode())
        nonce = int(headers[b"x-chutes-nonce"])
        return self.replays.add(nonce, signature, int(self.clock()))
