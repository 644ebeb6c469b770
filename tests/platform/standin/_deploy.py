"""``POST /chutes/`` validation as the platform does it (CHUTES_API.md §4.2-§4.4)."""

from __future__ import annotations

import ast
import re
from typing import Any

from starlette.exceptions import HTTPException

from chutes_build.definitions._node_selector import (
    GPUS,  # the GPU catalogue is data; the rules are below
)

ALLOW_INCLUDE = {
    "h100",
    "h100_sxm",
    "h100_nvl",
    "h200",
    "b200",
    "b300",
    "mi300x",
    "a100",
    "a100_sxm",
    "l40s",
    "a6000_ada",
}
CONSUMER = {"3090", "4090", "5090"}
NAME_RE = re.compile(r"^(?:([a-zA-Z0-9_.-]+)/)*([a-z0-9][a-z0-9_./-]*)$")
FILENAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.py$")
REF_STR_RE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
CORD_PATH_RE = re.compile(r"^(/[a-z][a-z0-9_]*)+$", re.I)
PUBLIC_PATH_RE = re.compile(r"^(/[a-z][a-z0-9_-]*)+$")
TEMPLATES = {None, "vllm", "diffusion", "tei", "embedding"}


def unprocessable(loc: str, msg: str) -> HTTPException:
    return HTTPException(
        422, [{"loc": ["body", *loc.split(".")], "msg": msg, "type": "value_error"}]
    )


def _typed(body: dict, key: str, kind: Any, *, required: bool = True) -> Any:
    if key not in body:
        if required:
            raise HTTPException(
                422, [{"loc": ["body", key], "msg": "Field required", "type": "missing"}]
            )
        return None
    value = body[key]
    if value is None and not required:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise unprocessable(key, f"Input should be a valid {getattr(kind, '__name__', kind)}")
    return value


def _bounded(
    body: dict, key: str, kind: Any, low: float | None, high: float | None, default: Any
) -> Any:
    value = _typed(body, key, kind, required=False)
    value = default if value is None else value
    if (low is not None and value < low) or (high is not None and value > high):
        raise unprocessable(key, f"Input should be between {low} and {high}")
    return value


def check_scalars(body: dict) -> dict[str, Any]:
    name = _typed(body, "name", str)
    if not 3 <= len(name) <= 128 or not NAME_RE.match(name):
        raise unprocessable("name", "String should match the chute name pattern")
    tee = bool(_typed(body, "tee", bool, required=False))
    if ("TEE" in name or name.endswith("tee")) and not tee:
        raise HTTPException(400, "Chute names containing TEE are reserved for TEE chutes")
    if len(_typed(body, "tagline", str, required=False) or "") > 1024:
        raise unprocessable("tagline", "String should have at most 1024 characters")
    if len(_typed(body, "readme", str, required=False) or "") > 16384:
        raise unprocessable("readme", "String should have at most 16384 characters")
    _typed(body, "image", str)
    _typed(body, "public", bool)
    if body.get("standard_template") not in TEMPLATES:
        raise unprocessable(
            "standard_template", "Input should be vllm, diffusion, tei or embedding"
        )
    if not FILENAME_RE.match(_typed(body, "filename", str)):
        raise unprocessable("filename", f"String should match pattern '{FILENAME_RE.pattern}'")
    if not REF_STR_RE.match(_typed(body, "ref_str", str)):
        raise unprocessable("ref_str", f"String should match pattern '{REF_STR_RE.pattern}'")
    code = _typed(body, "code", str)
    if len(code) > 150_000:
        raise unprocessable("code", "String should have at most 150000 characters")
    try:
        ast.parse(code)
    except SyntaxError as exc:
        raise HTTPException(400, f"Invalid code: {exc}") from None
    return {
        "concurrency": _bounded(body, "concurrency", int, None, 256, 1),
        "max_instances": _bounded(body, "max_instances", int, 1, 100, 1),
        "scaling_threshold": _bounded(body, "scaling_threshold", float, 0, 1, 0.75),
        "shutdown_after_seconds": _bounded(body, "shutdown_after_seconds", int, 60, 604800, 300),
        "allow_external_egress": bool(_typed(body, "allow_external_egress", bool, required=False)),
        "encrypted_fs": bool(_typed(body, "encrypted_fs", bool, required=False)),
        "tee": tee,
    }


def check_cords_jobs(body: dict) -> None:
    cords = body.get("cords") or []
    jobs = body.get("jobs") or []
    if bool(cords) == bool(jobs):
        raise HTTPException(400, "A chute must have either cords or jobs (exactly one of them)")
    for index, cord in enumerate(cords):
        where = f"cords.{index}"
        if not isinstance(cord, dict):
            raise unprocessable(where, "Input should be a valid dictionary")
        if not isinstance(cord.get("path"), str) or not CORD_PATH_RE.match(cord["path"]):
            raise unprocessable(f"{where}.path", "Invalid cord path")
        if not isinstance(cord.get("function"), str) or not cord["function"]:
            raise unprocessable(f"{where}.function", "Field required")
        for flag in ("stream", "passthrough"):
            if not isinstance(cord.get(flag, False), bool):
                raise unprocessable(f"{where}.{flag}", "Input should be a valid boolean")
        public_path = cord.get("public_api_path")
        if public_path is not None:
            if not isinstance(public_path, str) or not PUBLIC_PATH_RE.match(public_path):
                raise unprocessable(f"{where}.public_api_path", "Invalid public API path")
            if cord.get("public_api_method") not in ("GET", "POST"):
                raise unprocessable(f"{where}.public_api_method", "Must be GET or POST")
    for index, job in enumerate(jobs):
        for port in job.get("ports") or []:
            number = port.get("port")
            if not (number == 2202 or (isinstance(number, int) and 8002 <= number <= 65535)):
                raise unprocessable(
                    f"jobs.{index}.ports", "Port must be 2202 or in range 8002-65535"
                )
            if port.get("proto") not in ("tcp", "udp", "http"):
                raise unprocessable(f"jobs.{index}.ports", "proto must be tcp, udp or http")


def _gpu_list(selector: dict, key: str, allowed: set[str] | None, limit: int | None) -> list[str]:
    value = selector.get(key) or []
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise unprocessable(f"node_selector.{key}", "Input should be a list of strings")
    for gpu in value:
        if gpu not in GPUS or (allowed is not None and gpu not in allowed):
            raise unprocessable(f"node_selector.{key}", f"Invalid GPU identifier: {gpu}")
    if limit is not None and len(value) > limit:
        raise unprocessable(f"node_selector.{key}", f"At most {limit} GPUs may be excluded")
    return value


def supported_gpus(selector: dict, *, normal_user: bool = True) -> tuple[list[str], int]:
    """Validate a node selector and compute its supported GPUs (§4.3), raising like the server."""
    if not isinstance(selector, dict):
        raise unprocessable("node_selector", "Field required")
    count = _bounded(selector, "gpu_count", int, 1, 8, 1)
    vram = _bounded(selector, "min_vram_gb_per_gpu", int, 16, 140, 16)
    price = selector.get("max_hourly_price_per_gpu")
    if price is not None and not (isinstance(price, int | float) and 0 < price < 10):
        raise unprocessable("node_selector.max_hourly_price_per_gpu", "Must be > 0 and < 10")
    include = _gpu_list(selector, "include", ALLOW_INCLUDE, None)
    exclude = _gpu_list(selector, "exclude", None, 5)
    if normal_user and not exclude:
        exclude = ["b200", "mi300x"]
    pool = [g for g in (include or list(GPUS)) if g not in exclude]
    pool = [
        g
        for g in pool
        if GPUS[g].memory_gb >= vram and (price is None or GPUS[g].hourly_rate <= price)
    ]
    if pool and not include:
        cheapest = min(GPUS[g].hourly_rate for g in pool)
        pool = [g for g in pool if GPUS[g].hourly_rate <= 2.5 * cheapest or g == "pro_6000"]
    if "mi300x" in pool and len(pool) > 1:
        pool.remove("mi300x")
    if not pool:
        raise HTTPException(400, "No GPUs match the node selector")
    if set(pool) <= CONSUMER:
        raise HTTPException(403, "Consumer GPUs alone are not allowed for chutes")
    rates = [GPUS[g].hourly_rate for g in pool]
    if include and max(rates) > 2.5 * min(rates):
        raise HTTPException(400, "The included GPUs' prices differ by more than 2.5x")
    if set(pool) <= {"b200", "mi300x"}:
        raise HTTPException(403, "b200/mi300x-only selections are not allowed")
    return sorted(pool), count


def deployment_fee(count: int, gpus: list[str]) -> float:
    return round(3 * count * min(GPUS[g].hourly_rate for g in gpus), 4)


def fee_notice(fee: float) -> str:
    return (
        "DEPLOYMENT FEE NOTICE:\n===\nThere is a deployment fee of (hourly price per GPU * "
        f"number of GPUs * 3), which for this configuration is: ${fee:.2f}\n"
        "To acknowledge this fee, re-run the deployment with the accept_fee flag set."
    )
