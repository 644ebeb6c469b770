"""The GPU part of production mode, behind a small interface so tests can inject a fake.

:class:`GravalGpu` wraps ``graval.Miner`` (OpenCL on a real GPU); anything
with the same methods can replace it (``tests/runtime`` passes a CPU fake).
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

__all__ = ["GpuPart", "GravalGpu", "decrypt_symmetric_key"]


class GpuPart(Protocol):
    def devices(self) -> list[dict]: ...

    def prove(self, seed: int, iterations: int) -> Any: ...

    def decrypt(self, seed: int, ciphertext: bytes, iv: bytes, device_index: int) -> str: ...

    def device_challenge(self, challenge: str) -> str: ...

    def fs_challenge(self, filename: str, offset: int, length: int) -> str: ...


class GravalGpu:
    """The real thing: ``graval.Miner`` (imported on first use)."""

    def __init__(self) -> None:
        from graval import Miner

        self.miner = Miner()

    def devices(self) -> list[dict]:
        return [self.miner.get_device_info(i) for i in range(self.miner._device_count)]

    def prove(self, seed: int, iterations: int) -> Any:
        return self.miner.prove(seed, iterations=iterations)

    def decrypt(self, seed: int, ciphertext: bytes, iv: bytes, device_index: int) -> str:
        return self.miner.decrypt(seed, ciphertext, iv, len(ciphertext), device_index)

    def device_challenge(self, challenge: str) -> str:
        return self.miner.process_device_info_challenge(challenge)

    def fs_challenge(self, filename: str, offset: int, length: int) -> str:
        return self.miner.process_filesystem_challenge(
            filename=filename, offset=offset, length=length
        )


def decrypt_symmetric_key(gpu: GpuPart, seed: int, symmetric_key: dict) -> bytes:
    """The validator's key: ``ciphertext`` is base64(iv16 || ct), decrypted on the GPU ``uuid``."""
    blob = base64.b64decode(symmetric_key["ciphertext"])
    uuids = [d["uuid"] for d in gpu.devices()]
    if symmetric_key["uuid"] not in uuids:
        raise ValueError(f"the validator named GPU {symmetric_key['uuid']}, not one of {uuids}")
    return bytes.fromhex(
        gpu.decrypt(seed, blob[16:], blob[:16], uuids.index(symmetric_key["uuid"]))
    )
