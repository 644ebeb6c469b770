"""Launching an OpenAI-compatible engine (vLLM, SGLang) inside a running chute.

Everything here runs only from a startup hook, inside the image, never while
a chute is defined. Module-level imports are the standard library only; torch
and huggingface_hub are imported by the functions that need them (they exist
in the engine images). The command-line builders are pure functions so they
can be tested anywhere.

mTLS between the chute and the engine (the SDK's ``LLM_ENGINE_MTLS_ENABLE``,
which needs the platform's aegis preload library) is not implemented: the
engine listens on 127.0.0.1 with a fresh API key, as the SDK does without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

from ._llm import ENGINE_PORT

__all__ = [
    "ENGINE_PORT",
    "EngineLaunch",
    "download_model",
    "engine_env",
    "gpu_info",
    "launch",
    "new_api_key",
    "set_default_cache_dirs",
    "set_nccl_flags",
    "sglang_command",
    "start_sglang",
    "start_vllm",
    "vllm_command",
]

log = logging.getLogger("chutes_recipes")


_CACHE_KEYS = (
    "TRITON_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "FLASHINFER_WORKSPACE_BASE",
    "XFORMERS_CACHE_DIR", "DG_JIT_CACHE_DIR", "SGL_DG_CACHE_DIR", "SGLANG_DG_CACHE_DIR",
    "VLLM_CACHE_ROOT", "SGLANG_CACHE_DIR",
)  # fmt: skip
_QUIET_ENV = {
    "PYTHONDONTWRITEBYTECODE": "1", "VLLM_NO_USAGE_STATS": "1", "VLLM_DO_NOT_TRACK": "1",
    "DO_NOT_TRACK": "1",
}  # fmt: skip
#: Set for chutes of a model's own (not ``official_package``) package: the engine must not
#: reach Hugging Face once the snapshot is downloaded.
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def set_default_cache_dirs(download_path: str, environ: dict | None = None) -> None:
    """Point the kernel/compile caches into the model's folder (unless already set)."""
    environ = os.environ if environ is None else environ
    for key in _CACHE_KEYS:
        if not environ.get(key):
            environ[key] = os.path.join(download_path, f"_{key.lower()}")


def set_nccl_flags(gpu_count: int, gpu_model: str, environ: dict | None = None) -> None:
    """Re-enable NCCL peer-to-peer on multi-GPU machines that support it."""
    environ = os.environ if environ is None else environ
    pattern = "h[12]0|b[23]00|5090|l40s|6000 ada|a100|h800|pro 6000|sxm"
    if gpu_count > 1 and re.search(pattern, gpu_model, re.I):
        for key in ("NCCL_P2P_DISABLE", "NCCL_IB_DISABLE", "NCCL_NET_GDR_LEVEL"):
            environ.pop(key, None)


def _add(args: str, flag: str, text: str, *present: str) -> str:
    """Append ``text`` unless ``flag`` (or one of ``present``) is already there."""
    return args if any(f in args for f in (flag, *present)) else f"{args} {text}"


def vllm_command(
    model: str,
    name: str,
    revision: str,
    api_key: str,
    gpu_count: int,
    engine_args: str | None,
    pooler_config: dict | None = None,
    python: str = sys.executable,
    port: int = ENGINE_PORT,
) -> list[str]:
    """argv of vLLM's OpenAI server, with the flags the SDK's templates add.

    ``pooler_config`` selects the embedding template's variant (it adds only
    the tensor-parallel size and the pooler configuration).
    """
    args = _add(engine_args or "", "--tensor-parallel-size", f"--tensor-parallel-size {gpu_count}")
    if pooler_config is None:
        args = _add(args, "--enable-prompt-tokens-details", "--enable-prompt-tokens-details")
        if "affine" in name.lower():
            args = _add(args, "--enable-return-hidden-states", "--enable-return-hidden-states")
        args = _add(args, "--disable-custom-all-reduce", "--disable-custom-all-reduce")
        for flag in ("log-requests", "log-outputs", "log-deltas"):
            args = _add(args, f"--enable-{flag}", f"--no-enable-{flag}", f"--no-enable-{flag}")
    pooler = f"--pooler-config {shlex.quote(json.dumps(pooler_config))} " if pooler_config else ""
    command = (
        f"{python} -m vllm.entrypoints.openai.api_server --model {model} "
        f"--served-model-name {name} --revision {revision} {pooler}--api-key {api_key} "
        f"--port {port} --host 127.0.0.1 {args}"
    )
    return shlex.split(command)


def sglang_command(
    model: str,
    revision: str,
    api_key: str,
    gpu_count: int,
    engine_args: str | None,
    python: str = sys.executable,
    port: int = ENGINE_PORT,
    official_package: bool = False,
) -> list[str]:
    """argv of SGLang's server, with the flags the SDK's template adds.

    An ``official_package`` chute's engine does not return hidden states.
    """
    args = engine_args or ""
    if "--tp=" not in args and "--tp " not in args:
        args += f" --tp {gpu_count}"
    args = _add(args, "--enable-cache-report", "--enable-cache-report")
    if not official_package:
        args = _add(args, "--enable-return-hidden-states", "--enable-return-hidden-states")
    args += f" --revision {revision}"
    args = _add(args, "--disable-custom-all-reduce", "--disable-custom-all-reduce")
    args = _add(args, "--gc-threshold", "--gc-threshold 50000 100 100")
    args = _add(args, "--log-requests-level", "--log-requests-level 0")
    command = (
        f"{python} -m sglang.launch_server --host 127.0.0.1 --port {port} "
        f"--model-path {model} {args} --api-key {api_key}"
    )
    return shlex.split(command)


def gpu_info() -> tuple[int, str]:
    """(GPU count, first GPU's name), resetting torch's CUDA state as the SDK does."""
    import multiprocessing

    import torch

    torch.cuda.empty_cache()
    torch.cuda.init()
    torch.cuda.set_device(0)
    multiprocessing.set_start_method("spawn", force=True)
    count = int(os.getenv("CUDA_DEVICE_COUNT", str(torch.cuda.device_count())))
    return count, torch.cuda.get_device_name(0)


async def download_model(model: str, revision: str | None, attempts: int = 5) -> str:
    """Download the model snapshot into the Hugging Face cache; return its folder."""
    from huggingface_hub import snapshot_download

    kwargs = {"revision": revision} if revision else {}
    for attempt in range(attempts):
        try:
            return await asyncio.to_thread(snapshot_download, repo_id=model, **kwargs)
        except Exception as exc:  # noqa: BLE001 - retried, then reported
            log.warning("downloading %s (attempt %d) failed: %s", model, attempt + 1, exc)
        if attempt + 1 < attempts:
            await asyncio.sleep(60)
    raise RuntimeError(f"failed to download {model} after {attempts} attempts")


def _get(url: str, api_key: str | None, timeout: float = 10.0) -> int:
    request = urllib.request.Request(url)
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _post(url: str, api_key: str, body: dict[str, Any], timeout: float = 600.0) -> int:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class EngineLaunch:
    """One engine process: started by :func:`launch`, watched until it dies."""

    def __init__(self, label: str, process: subprocess.Popen, api_key: str, port: int) -> None:
        self.label, self.process, self.api_key, self.port = label, process, api_key, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.monitor: asyncio.Task | None = None

    async def wait_ready(self, interval: float = 1.0) -> None:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited before it was ready (exit={self.process.returncode})"
                )
            if await asyncio.to_thread(_get, f"{self.base_url}/v1/models", self.api_key) == 200:
                return
            await asyncio.sleep(interval)

    async def check_auth(self, model: str | None) -> None:
        """The engine must refuse a request without the key (the SDK's ``validate_auth``)."""
        if await asyncio.to_thread(_get, f"{self.base_url}/v1/models", None) != 401:
            raise RuntimeError(f"{self.label} answered without its API key; refusing to serve")
        if model:
            body = {"model": model, "prompt": "Say hello.", "max_tokens": 16}
            status = await asyncio.to_thread(
                _post, f"{self.base_url}/v1/completions", self.api_key, body
            )
            if status != 200:
                raise RuntimeError(f"{self.label} warm-up completion failed with status {status}")

    async def _watch(self, interval: float, threshold: int) -> None:
        failures = 0
        while True:
            if self.process.poll() is not None:
                log.error("%s died with exit code %s", self.label, self.process.returncode)
                os._exit(1)
            ok = (
                await asyncio.to_thread(_get, f"{self.base_url}/v1/models", self.api_key, 30.0)
                == 200
            )
            failures = 0 if ok else failures + 1
            if failures >= threshold:
                log.error("%s is unresponsive (%d failed health checks)", self.label, failures)
                os._exit(1)
            await asyncio.sleep(interval)

    def watch(self, interval: float = 10.0, threshold: int = 5) -> None:
        self.monitor = asyncio.get_running_loop().create_task(self._watch(interval, threshold))


async def launch(
    chute: Any,
    label: str,
    argv: list[str],
    api_key: str,
    env: dict[str, str],
    warm_model: str | None,
    port: int = ENGINE_PORT,
    poll_interval: float = 1.0,
) -> EngineLaunch:
    """Start the engine, wait for it, check its auth, forward the key, then keep watching it.

    The process is killed when it never becomes ready or fails the auth check.
    """
    shown = " ".join(argv).replace(api_key, "*" * len(api_key))
    log.info("launching %s: %s", label, shown)
    process = subprocess.Popen(
        argv, text=True, stderr=subprocess.STDOUT, env={**os.environ, **_QUIET_ENV, **env}
    )
    engine = EngineLaunch(label, process, api_key, port)
    try:
        await engine.wait_ready(poll_interval)
        await engine.check_auth(warm_model)
    except BaseException:
        process.kill()
        process.wait()
        raise
    chute.passthrough_headers["Authorization"] = f"Bearer {api_key}"
    engine.watch()
    return engine


def new_api_key() -> str:
    return str(uuid.uuid4())


def engine_env(name: str, revision: str, official_package: bool) -> dict[str, str]:
    """The engine's environment from the chute: its name, revision and offline mode.

    An ``official_package`` chute (SDK 0.6.11) runs its engine with none of these.
    """
    if official_package:
        return {}
    return {"SGL_MODEL_NAME": name, "SGL_REVISION": revision, **_OFFLINE_ENV}


_VLLM_LOG_ENV = {
    "VLLM_LOGGING_COLOR": "0", "VLLM_LOG_STATS_INTERVAL": "10", "VLLM_LOG_BATCHSIZE_INTERVAL": "-1",
    "VLLM_DEBUG_WORKSPACE": "0", "VLLM_LOG_MODEL_INSPECTION": "0", "VLLM_DEBUG_MFU_METRICS": "0",
    "VLLM_DISABLE_LOG_LOGO": "0", "VLLM_LOGGING_LEVEL": "INFO", "VLLM_TRACE_FUNCTION": "0",
    "VLLM_SERVER_DEV_MODE": "0",
}  # fmt: skip


async def start_vllm(
    chute: Any,
    model: str,
    revision: str,
    engine_args: str | None,
    pooler_config: dict | None = None,
    official_package: bool = False,
) -> EngineLaunch:
    """The vLLM templates' startup: download, configure the GPUs, launch, wait, watch."""
    path = await download_model(model, revision)
    set_default_cache_dirs(path)
    gpu_count, gpu_model = gpu_info()
    set_nccl_flags(gpu_count, gpu_model)
    api_key = new_api_key()
    argv = vllm_command(model, chute.name, revision, api_key, gpu_count, engine_args, pooler_config)
    env = {**engine_env(chute.name, revision, official_package), **_VLLM_LOG_ENV}
    if pooler_config and pooler_config.get("enable_chunked_processing"):
        env["VLLM_ENABLE_CHUNKED_PROCESSING"] = "true"
    warm = None if pooler_config else chute.name
    engine = await launch(chute, "vLLM", argv, api_key, env, warm)
    chute._vllm_process = engine.process
    return engine


async def start_sglang(
    chute: Any, model: str, revision: str, engine_args: str | None, official_package: bool = False
) -> EngineLaunch:
    """The SGLang template's startup: configure the GPUs, download, launch, wait, watch."""
    gpu_count, gpu_model = gpu_info()
    set_nccl_flags(gpu_count, gpu_model)
    path = await download_model(model, revision)
    set_default_cache_dirs(path)
    api_key = new_api_key()
    argv = sglang_command(
        model, revision, api_key, gpu_count, engine_args, official_package=official_package
    )
    env = {
        **engine_env(chute.name, revision, official_package),
        "SGLANG_DISABLE_REQUEST_LOGGING": "True",
    }
    engine = await launch(chute, "SGLang", argv, api_key, env, chute.name)
    chute._sglang_process = engine.process
    return engine
