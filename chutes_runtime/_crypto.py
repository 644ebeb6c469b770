"""The session cipher of CHUTES_API.md §6.4 (X25519 + HKDF-SHA256 + ChaCha20-Poly1305).

``enc(x)`` is base64(cipher(gzip(x))); the wire unit of the cipher is
``nonce(12) || ciphertext || tag(16)`` and one key serves both directions.
Imported only in production mode (it needs ``cryptography``).
"""

from __future__ import annotations

import base64
import gzip
import os
import zlib

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "SESSION_INFO",
    "SessionCipher",
    "aes_cbc_encrypt",
    "derive_session_key",
    "gunzip",
    "open_body",
]

SESSION_INFO = b"runint-session-v4"
_PADDING = bytes(range(1, 17))


def derive_session_key(
    private: X25519PrivateKey,
    peer_pub: bytes,
    instance_pub: bytes,
    validator_pub: bytes,
    rint_nonce: bytes,
) -> bytes:  # noqa: E501
    """HKDF-SHA256(ikm=X25519(private, peer), salt=instance_pub||validator_pub||nonce)."""
    shared = private.exchange(X25519PublicKey.from_public_bytes(peer_pub))
    salt = instance_pub + validator_pub + rint_nonce
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=SESSION_INFO).derive(shared)


class SessionCipher:
    """ChaCha20-Poly1305 with a random 12-byte nonce per message."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, None)

    def decrypt(self, blob: bytes) -> bytes:
        """Raise ``ValueError`` when the blob is short or fails authentication."""
        if len(blob) < 28:
            raise ValueError("ciphertext too short")
        try:
            return self._aead.decrypt(blob[:12], blob[12:], None)
        except Exception as exc:  # cryptography.exceptions.InvalidTag
            raise ValueError("authentication failed") from exc

    def enc(self, data: bytes | str) -> str:
        """base64(cipher(gzip(data))), as the instance's ``_encrypt`` produces."""
        raw = data.encode() if isinstance(data, str) else data
        return base64.b64encode(self.encrypt(gzip.compress(raw, compresslevel=1, mtime=0))).decode()

    def dec(self, text: bytes | str) -> bytes:
        """The inverse of :meth:`enc` (what the validator does with a response)."""
        return gzip.decompress(self.decrypt(base64.b64decode(text)))


def open_body(cipher: SessionCipher, body: bytes, limit: int = 64 << 20) -> bytes:
    """A request body (base64 ciphertext) to its JSON bytes; ``ValueError`` on failure."""
    plain = cipher.decrypt(base64.b64decode(body, validate=False))
    if plain[:2] == b"\x1f\x8b":
        return gunzip(plain, limit)
    return plain.rstrip(_PADDING)


def gunzip(data: bytes, limit: int) -> bytes:
    """``gzip.decompress`` that stops at ``limit`` bytes and raises only ``ValueError``.

    Issue 7: a corrupt deflate stream raised ``zlib.error`` (a 500), and a small
    gzip bomb expanded without bound.
    """
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise ValueError(f"corrupt gzip data: {exc}") from None
        if len(out) > limit:
            raise ValueError(f"gzip data over {limit} bytes")
        if not inflater.eof:
            raise ValueError("truncated gzip data")
        data = inflater.unused_data.lstrip(b"\x00")
    return bytes(out)


def aes_cbc_encrypt(key: bytes, plaintext: str) -> tuple[bytes, str]:
    """``(iv, base64 ciphertext)`` with AES-CBC/PKCS7: the launch handshake's response."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv, base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()
