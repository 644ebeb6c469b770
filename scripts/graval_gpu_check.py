#!/usr/bin/env python3
"""Check the runtime's GraVal path on a real GPU (graval 0.2.6 needs an OpenCL GPU device).

    python scripts/graval_gpu_check.py [--iterations 1] [--quick]

Self-contained: installs nothing, imports only ``graval`` (plus ``cryptography``
for the last step, skipped when absent) and the runtime's ``_graval.py`` loaded
by file path, so neither the chutes_runtime package nor its web dependencies
are needed on the GPU machine. Each step prints ``PASS``, ``FAIL`` or ``SKIP``;
the exit status is 1 when any step failed. The GPU machine needs graval's
shared libraries to find ``libOpenCL.so.1`` (an ICD loader with the NVIDIA
vendor file) and ``libclblast.so``.

Steps (``--quick`` stops after the miner's proof, skipping the validator's CPU
re-computation, which takes minutes for a large GPU): import graval; ``graval.Miner``
finds GPUs; the runtime's ``GravalGpu.devices()`` gives the fields the launch handshake sends;
``graval.Validator`` encrypts a symmetric key for one GPU and the runtime's
``decrypt_symmetric_key`` (after ``prove``) recovers it; the validator checks
the miner's proof; device-info and filesystem challenges round-trip; the
handshake answer (AES-CBC with the recovered key) decrypts to the plaintext.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import os
import secrets
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
GRAVAL_MODULE = os.path.join(os.path.dirname(HERE), "chutes_runtime", "_graval.py")
FIELDS = ("name", "uuid", "memory", "processors", "clock_rate", "max_threads_per_processor")

results: list[str] = []


def step(name: str, fn: Callable[[], Any]) -> Any:
    """Run one step; print PASS/FAIL with its detail; return its value (None on failure)."""
    started = time.monotonic()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - report every failure the same way
        results.append("FAIL")
        print(
            f"FAIL {name} ({time.monotonic() - started:.1f}s): {type(exc).__name__}: {exc}",
            flush=True,
        )
        if os.environ.get("GRAVAL_CHECK_DEBUG"):
            traceback.print_exc()
        return None
    results.append("PASS")
    shown = detail if isinstance(detail, str) else ""
    took = f" ({time.monotonic() - started:.1f}s)"
    print(f"PASS {name}{took}{': ' + shown if shown else ''}", flush=True)
    return detail


def skip(name: str, why: str) -> None:
    results.append("SKIP")
    print(f"SKIP {name}: {why}", flush=True)


def load_runtime_graval() -> Any:
    spec = importlib.util.spec_from_file_location("chutes_runtime_graval_check", GRAVAL_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(iterations: int, quick: bool) -> None:
    graval = step("import graval", lambda: __import__("graval"))
    if graval is None:
        return
    rt = step("load chutes_runtime/_graval.py", load_runtime_graval)
    gpu = step("graval.Miner() finds OpenCL GPUs", lambda: rt.GravalGpu() if rt else None)
    if gpu is None:
        return
    print(f"     {gpu.miner._device_count} device(s)", flush=True)

    def devices() -> str:
        infos = gpu.devices()
        assert infos, "no devices"
        for info in infos:
            missing = [f for f in FIELDS if f not in info]
            assert not missing, f"device info lacks {missing}: {info}"
        return "; ".join(f"{d['name']} {d['uuid']} {d['memory'] // 2**30} GiB" for d in infos)

    if step("GravalGpu.devices() has the handshake fields", devices) is None:
        return
    validator = step("graval.Validator() initialises", graval.Validator)
    if validator is None:
        return
    step("device-info challenge round trip", lambda: device_challenge(gpu, validator))
    step("filesystem challenge", lambda: fs_challenge(gpu))
    step("miner proves a seed on the GPU", lambda: prove_only(gpu, iterations))
    if quick:
        for name in (
            "symmetric key round trip",
            "validator accepts the miner's proof",
            "handshake answer",
        ):
            skip(name, "--quick (graval.Validator.encrypt recomputes the GPU's work on the CPU)")
        return
    # The validator side recomputes the GPU's work on the CPU: minutes for a 141 GB GPU.
    key = step("symmetric key round trip", lambda: key_round_trip(rt, gpu, validator, iterations))
    step("validator accepts the miner's proof", lambda: proof(gpu, validator, iterations))
    try:
        from cryptography.hazmat.primitives import padding  # noqa: F401
    except ImportError:
        skip("handshake answer (AES-CBC)", "cryptography not installed")
        return
    if key:
        step(
            "handshake answer decrypts to the plaintext",
            lambda: handshake_answer(bytes.fromhex(key)),
        )


def prove_only(gpu: Any, iterations: int) -> str:
    products = gpu.prove(secrets.randbelow(2**31) + 1, iterations)
    assert products, "no work products"
    hashes = [len(p["work_product"]["intermediate_hashes"]) for p in products.values()]
    return f"{len(products)} device(s), {hashes} intermediate hashes"


def key_round_trip(rt: Any, gpu: Any, validator: Any, iterations: int) -> str:
    info = gpu.devices()[-1]
    key = secrets.token_bytes(32)
    ciphertext, iv, _length, seed = validator.encrypt(info, key.hex(), iterations)
    state["seed"] = seed
    gpu.prove(seed, iterations)
    symmetric = {"ciphertext": base64.b64encode(iv + ciphertext).decode(), "uuid": info["uuid"]}
    recovered = rt.decrypt_symmetric_key(gpu, seed, symmetric)
    assert recovered == key, f"decrypted {recovered.hex()} != {key.hex()}"
    return key.hex()


state: dict[str, Any] = {}


def proof(gpu: Any, validator: Any, iterations: int) -> str:
    seed = state.get("seed")
    assert seed is not None, "no seed (the key round trip failed)"
    products = gpu.prove(seed, iterations)
    infos = {d["uuid"]: d for d in gpu.devices()}
    for uuid, product in products.items():
        work = product["work_product"]
        for iteration in range(work["total_iterations"]):
            ok = validator.check_proof(infos[uuid], seed, iteration, work)
            assert ok, f"proof rejected for {uuid} at iteration {iteration}"
    return f"{len(products)} device(s)"


def device_challenge(gpu: Any, validator: Any) -> str:
    infos = [{k: d[k] for k in FIELDS} for d in gpu.devices()]
    challenge = validator.generate_device_info_challenge(len(infos))
    answer = gpu.device_challenge(challenge)
    assert len(answer) == 64, f"answer is {len(answer)} characters"
    assert validator.verify_device_info_challenge(challenge, answer, infos), (
        "validator rejected the answer"
    )
    return answer[:16] + "..."


def fs_challenge(gpu: Any) -> str:
    first = gpu.fs_challenge(os.path.abspath(__file__), 0, 256)
    second = gpu.fs_challenge(os.path.abspath(__file__), 0, 256)
    assert len(first) == 64 and first == second, f"{first!r} vs {second!r}"
    return first[:16] + "..."


def handshake_answer(key: bytes) -> str:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    plaintext = secrets.token_hex(16)
    padder = padding.PKCS7(128).padder()
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    blob = enc.update(padder.update(plaintext.encode()) + padder.finalize()) + enc.finalize()
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    back = unpadder.update(dec.update(blob) + dec.finalize()) + unpadder.finalize()
    assert back.decode() == plaintext
    return "AES-256-CBC/PKCS7 with the GPU-decrypted key"


def main() -> int:
    parser = argparse.ArgumentParser(description="Check the runtime's GraVal path on a GPU.")
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument(
        "--quick", action="store_true", help="skip the steps that need graval.Validator.encrypt"
    )
    args = parser.parse_args()
    check(args.iterations, args.quick)
    failed = results.count("FAIL")
    ok = bool(results) and failed == 0
    counts = f"{results.count('PASS')} passed, {failed} failed, {results.count('SKIP')} skipped"
    print(f"{'PASS' if ok else 'FAIL'} graval_gpu_check: {counts}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
