"""``python -m chutes_runtime FILE.py:CHUTE [--dev] [--host H] [--port P] ...``

The one place that reads the command line and the environment (the
platform's ``CHUTES_*`` variables, CHUTES_API.md §6.1) into :class:`Settings`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys

from chutes_build._errors import ChutesBuildError

from ._server import Runtime
from ._settings import MiB, Settings

__all__ = ["main", "parse_settings"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chutes_runtime", description="Serve a chute's cords."
    )
    p.add_argument("target", help="FILE.py:CHUTE (or module:chute, as `chutes run` takes it)")
    p.add_argument("--dev", action="store_true", help="plain JSON, no signatures or encryption")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--logging-port", type=int, default=8001, help="accepted for SDK compatibility")
    p.add_argument("--max-body-mb", type=float, default=64.0, help="larger bodies get 413")
    p.add_argument(
        "--body-timeout", type=float, default=60.0, help="close a connection whose body stalls"
    )
    p.add_argument("--threads", type=int, default=None, help="worker threads for sync cords")
    p.add_argument("--miner-ss58", default=None)
    p.add_argument("--validator-ss58", default=None)
    p.add_argument(
        "--no-trust-localhost", action="store_true", help="sign/encrypt even from 127.0.0.1"
    )
    p.add_argument("--log-level", default="info")
    p.add_argument("--http", choices=("h1", "h11"), default="h1", help="HTTP/1.1 implementation")
    p.add_argument("--dev-job-data-path", default=None, help="dev: run a job with this JSON")
    p.add_argument("--dev-job-method", default=None, help="dev: the job's name")
    return p


def _port_mappings(port: int, logging_port: int, env: dict[str, str]) -> list[dict]:
    primary, logs = env.get("CHUTES_PORT_PRIMARY", ""), env.get("CHUTES_PORT_LOGGING", "")
    mappings = [
        {
            "proto": "tcp",
            "internal_port": port,
            "external_port": int(primary) if primary.isdigit() else port,
            "default": True,
        },
        {
            "proto": "tcp",
            "internal_port": logging_port,
            "external_port": int(logs) if logs.isdigit() else logging_port,
            "default": True,
        },
    ]
    for key, value in sorted(env.items()):
        match = re.match(r"^CHUTES_PORT_(TCP|UDP|HTTP)_([0-9]+)$", key)
        if match and value.isdigit():
            mappings.append(
                {
                    "proto": match.group(1),
                    "internal_port": int(match.group(2)),
                    "external_port": int(value),
                    "default": False,
                }
            )
    return mappings


def parse_settings(argv: list[str], env: dict[str, str]) -> Settings:
    args = _parser().parse_args(argv)
    return Settings(
        target=args.target,
        dev=args.dev,
        host=args.host,
        port=args.port,
        max_body_bytes=int(args.max_body_mb * MiB),
        body_timeout_s=args.body_timeout,
        threads=args.threads,
        miner_ss58=args.miner_ss58,
        validator_ss58=args.validator_ss58,
        trust_localhost=not args.no_trust_localhost,
        launch_jwt=env.get("CHUTES_LAUNCH_JWT"),
        external_host=env.get("CHUTES_EXTERNAL_HOST"),
        log_level=args.log_level,
        http=args.http,
        port_mappings=_port_mappings(args.port, args.logging_port, env),
        job_data_path=args.dev_job_data_path,
        job_method=args.dev_job_method,
    )


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(sys.argv[1:] if argv is None else argv, dict(os.environ))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = Runtime(settings)
    try:
        started = asyncio.run(runtime.serve())
    except ChutesBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if runtime.job is not None and (runtime.job.outcome or {}).get("status") != "complete":
        return 1
    return 0 if started else 3


if __name__ == "__main__":
    sys.exit(main())
