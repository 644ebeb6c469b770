"""Request signing: the platform's hotkey scheme (CHUTES_API.md §1.1).

The signed message is ``"{hotkey_ss58}:{nonce}:{third}"`` where ``third`` is the
SHA-256 hex digest of the exact body bytes sent (requests with a body) or the
route's purpose string (requests without one). The signature is sr25519 (via
``substrate-interface``, imported lazily) in lowercase hex.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "API_KEY_HEADER",
    "HOTKEY_HEADER",
    "NONCE_HEADER",
    "SDK_COMPAT_VERSION",
    "SIGNATURE_HEADER",
    "USER_ID_HEADER",
    "VERSION_HEADER",
    "Signer",
    "auth_headers",
    "signing_message",
]

HOTKEY_HEADER = "X-Chutes-Hotkey"
NONCE_HEADER = "X-Chutes-Nonce"
SIGNATURE_HEADER = "X-Chutes-Signature"
USER_ID_HEADER = "X-Chutes-UserID"
VERSION_HEADER = "X-Chutes-Version"
API_KEY_HEADER = "Authorization"

#: The SDK version whose protocol this client speaks; sent as ``X-Chutes-Version``
#: (the image route rejects anything below 0.3.61, so our own version cannot go here).
SDK_COMPAT_VERSION = "0.6.9"


def signing_message(hotkey: str, nonce: str, body: bytes | None, purpose: str | None) -> str:
    """The message the platform expects: body hash when there is a body, else the purpose.

    An empty body counts as "no body", as in the SDK (``if payload_str:``).
    """
    if body:
        return f"{hotkey}:{nonce}:{hashlib.sha256(body).hexdigest()}"
    if purpose:
        return f"{hotkey}:{nonce}:{purpose}"
    raise ValueError("a request without a body needs a purpose to sign")


class Signer:
    """Signs messages with one hotkey. The seed never appears in ``repr``."""

    __slots__ = ("_keypair", "_seed", "ss58_address")

    def __init__(self, seed_hex: str, ss58_address: str | None = None) -> None:
        self._seed = seed_hex.removeprefix("0x")
        self._keypair: Any = None
        self.ss58_address = ss58_address or self._load().ss58_address

    def __repr__(self) -> str:
        return f"Signer({self.ss58_address})"

    def _load(self) -> Any:
        if self._keypair is None:
            try:
                from substrateinterface import Keypair
            except ImportError:  # pragma: no cover - depends on the install
                from ._errors import PlatformConfigError

                raise PlatformConfigError(
                    "signing requests needs the substrate-interface package",
                    fix="pip install 'chutes-build[platform]' (or substrate-interface)",
                ) from None
            try:
                self._keypair = Keypair.create_from_seed(seed_hex=self._seed)
            except Exception:
                from ._errors import PlatformConfigError

                raise PlatformConfigError(
                    "the configured hotkey_seed is not a valid 32-byte hex seed",
                    fix="check [auth] hotkey_seed in config.ini (64 hex characters)",
                ) from None
            derived = self._keypair.ss58_address
            if getattr(self, "ss58_address", None) not in (None, derived):
                from ._errors import PlatformConfigError

                raise PlatformConfigError(
                    f"hotkey_ss58address {self.ss58_address} does not belong to the configured "
                    f"hotkey_seed (which gives {derived})",
                    fix="fix [auth] hotkey_ss58address or hotkey_seed in config.ini",
                )
        return self._keypair

    def sign(self, message: str) -> str:
        return self._load().sign(message.encode()).hex()


def auth_headers(
    signer: Signer | None,
    *,
    nonce: str,
    body: bytes | None = None,
    purpose: str | None = None,
    user_id: str | None = None,
    api_key: str | None = None,
    versioned: bool = False,
) -> dict[str, str]:
    """Authentication headers for one request.

    With a signer: the three hotkey headers (plus ``X-Chutes-UserID``, which the
    server ignores). With an API key: ``Authorization: Basic cpk_…`` (the server
    reads the last token). Both may be present; the server prefers the hotkey.
    """
    headers: dict[str, str] = {}
    if signer is not None:
        message = signing_message(signer.ss58_address, nonce, body, purpose)
        headers[HOTKEY_HEADER] = signer.ss58_address
        headers[NONCE_HEADER] = nonce
        headers[SIGNATURE_HEADER] = signer.sign(message)
        if user_id:
            headers[USER_ID_HEADER] = user_id
    if api_key:
        headers[API_KEY_HEADER] = f"Basic {api_key}"
    if versioned:
        headers[VERSION_HEADER] = SDK_COMPAT_VERSION
    return headers
