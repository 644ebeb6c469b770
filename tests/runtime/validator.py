"""A test validator: the platform's side of CHUTES_API.md §6.2-§6.4, over real HTTP.

It serves the launch handshake (nonce, POST/PUT graval, activation), and its
:class:`ValidatorClient` calls an instance the way the API's miner client
does: sr25519-signed headers, encrypted path and body, from 127.0.0.2 (so the
instance's localhost bypass does not apply). The GPU part is a CPU fake whose
"GraVal" cipher is AES-CBC with a key derived from the seed and the GPU uuid.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import secrets
import threading
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

UUIDS = ("GPU-0000-fake", "GPU-0001-fake")


def _gpu_key(seed: int, uuid: str) -> bytes:
    return hashlib.sha256(f"{seed}:{uuid}".encode()).digest()


def _cbc(key: bytes, iv: bytes, data: bytes, decrypt: bool = False) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    if decrypt:
        dec = cipher.decryptor()
        raw = dec.update(data) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(raw) + unpadder.finalize()
    padder = padding.PKCS7(128).padder()
    enc = cipher.encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


class FakeGpu:
    """Stands in for ``graval.Miner`` behind the runtime's GPU interface."""

    def __init__(self) -> None:
        self.proved: list[tuple[int, int]] = []

    def devices(self) -> list[dict]:
        return [
            {
                "name": "Fake H100",
                "uuid": u,
                "memory": 80 * 2**30,
                "processors": 132,
                "clock_rate": 1980.0,
                "max_threads_per_processor": 2048,
            }
            for u in UUIDS
        ]

    def prove(self, seed: int, iterations: int) -> dict:
        self.proved.append((seed, iterations))
        return {
            u: {"device_uuid": u, "work_product": hashlib.sha256(f"{seed}{u}".encode()).hexdigest()}
            for u in UUIDS
        }

    def decrypt(self, seed: int, ciphertext: bytes, iv: bytes, device_index: int) -> str:
        return _cbc(_gpu_key(seed, UUIDS[device_index]), iv, ciphertext, decrypt=True).decode()

    def device_challenge(self, challenge: str) -> str:
        return hashlib.sha256((challenge + ",".join(UUIDS)).encode()).hexdigest()

    def fs_challenge(self, filename: str, offset: int, length: int) -> str:
        with open(filename, "rb") as handle:
            handle.seek(offset)
            return hashlib.sha256(handle.read(length)).hexdigest()


def make_jwt(claims: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'typ': 'JWT'})}.{part(claims)}.{part({'sig': 'not-checked'})}"


class Validator:
    """The handshake endpoints as a raw ASGI app; remembers what the instance sent."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.nonce = secrets.token_hex(16)
        self.session_key: bytes | None = None
        self.inventory: dict | None = None
        self.verified = False
        self.activated = threading.Event()
        self._symmetric = secrets.token_bytes(32)
        self._plaintext = secrets.token_hex(8)
        self._seed = 4242
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/instances/launch_config/cfg-1"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, out = self.route(scope["method"], scope["path"], body, dict(scope["headers"]))
        payload = out if isinstance(out, bytes) else json.dumps(out).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def route(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, Any]:
        if headers.get(b"authorization", b"").count(b".") != 2:
            return 401, {"detail": "no jwt"}
        tail = path.rsplit("/", 1)[-1]
        if (method, tail) == ("GET", "nonce"):
            return 200, self.nonce.encode()
        if (method, tail) == ("POST", "graval"):
            return 200, self._challenge(json.loads(body))
        if (method, tail) == ("PUT", "graval"):
            return self._finish(json.loads(body))
        if (method, tail) == ("GET", "activate"):
            self.activated.set()
            return 200, {"ok": True}
        return 404, {"detail": "unknown"}

    def _challenge(self, inventory: dict) -> dict:
        self.inventory = inventory
        uuid = inventory["gpus"][1]["uuid"]
        iv = secrets.token_bytes(16)
        blob = iv + _cbc(_gpu_key(self._seed, uuid), iv, self._symmetric.hex().encode())
        private = X25519PrivateKey.generate()
        validator_pub = private.public_key().public_bytes_raw()
        instance_pub = bytes.fromhex(inventory["rint_pubkey"])
        shared = private.exchange(X25519PublicKey.from_public_bytes(instance_pub))
        salt = instance_pub + validator_pub + bytes.fromhex(inventory["rint_nonce"])
        self.session_key = HKDF(hashes.SHA256(), 32, salt, b"runint-session-v4").derive(shared)
        return {
            "seed": self._seed,
            "iterations": 2,
            "job_id": None,
            "validator_pubkey": validator_pub.hex(),
            "symmetric_key": {
                "ciphertext": base64.b64encode(blob).decode(),
                "uuid": uuid,
                "response_plaintext": self._plaintext,
            },
        }

    def _finish(self, answer: dict) -> tuple[int, Any]:
        plain = _cbc(
            self._symmetric,
            bytes.fromhex(answer["iv"]),
            base64.b64decode(answer["response"]),
            decrypt=True,
        )
        if plain.decode() != self._plaintext or set(answer["proof"]) != set(UUIDS):
            return 400, {"detail": "bad proof"}
        self.verified = True
        return 200, {
            "chute_id": "chute-1",
            "instance_id": "instance-1",
            "verified_at": time.time(),
            "code": self.code,
            "fs_key": None,
            "secrets": {"TEST_SECRET": "s3cret"},
            "activation_url": f"http://127.0.0.1:{self.port}/instances/activate",
        }


class ValidatorClient:
    """Calls an instance as the API does (signed, encrypted), from source address 127.0.0.2."""

    def __init__(self, url: str, key: bytes, keypair: Any, miner_ss58: str) -> None:
        self.url, self.keypair, self.miner = url, keypair, miner_ss58
        self.aead = ChaCha20Poly1305(key)
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        self.http = httpx.Client(transport=transport, timeout=30)

    def encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self.aead.encrypt(nonce, data, None)

    def seal(self, plain: bytes) -> bytes:
        """base64(cipher(gzip(plain))): a request body as the API sends it."""
        return base64.b64encode(self.encrypt(gzip.compress(plain)))

    def dec(self, text: str | bytes) -> bytes:
        blob = base64.b64decode(text)
        return gzip.decompress(self.aead.decrypt(blob[:12], blob[12:], None))

    def enc_path(self, path: str) -> str:
        return "/" + self.encrypt(path.ljust(24, "?").encode()).hex()

    def headers(
        self,
        body: bytes | None,
        nonce: int | None = None,
        keypair: Any = None,
        miner: str | None = None,
    ) -> dict:
        nonce = int(time.time()) if nonce is None else nonce
        payload = hashlib.sha256(body).hexdigest() if body else "chutes"
        miner = miner or self.miner
        message = f"{miner}:{self.keypair.ss58_address}:{nonce}:{payload}"
        return {
            "X-Chutes-Miner": miner,
            "X-Chutes-Validator": self.keypair.ss58_address,
            "X-Chutes-Nonce": str(nonce),
            "X-Chutes-Signature": (keypair or self.keypair).sign(message).hex(),
        }

    def call(
        self,
        method: str,
        path: str,
        obj: Any = None,
        *,
        raw_path: str | None = None,
        stream: bool = False,
        body: bytes | None = None,
        extra: dict | None = None,
        query: dict | None = None,
        **sign: Any,
    ) -> httpx.Response:
        if body is None and obj is not None:
            body = self.seal(json.dumps(obj).encode())
        headers = {**self.headers(body, **sign), **(extra or {})}
        if body:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        url = self.url + (raw_path or self.enc_path(path))
        request = self.http.build_request(method, url, content=body, headers=headers, params=query)
        return self.http.send(request, stream=stream)
