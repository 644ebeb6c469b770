"""``python -m chutes_runtime FILE.py:CHUTE [--dev] [--host H] [--port P] ...``

The one place that reads the command line and the environment (the
platform's ``CHUTES_*`` variables, CHUTES_API.md §6.1) into :class:`Settings`.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from chutes_build.core import ChutesBuildError

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
    p.add_argument(
        "--cord-timeout", action="append", default=[], metavar="[CORD=]SECONDS",
        help="time limit of a non-streaming call (default 1800, 0: none); CORD=SECONDS sets "
        "one cord's (by function name); repeatable",
    )  # fmt: skip
    p.add_argument("--loop-lag-warn", type=float, default=1.0, metavar="SECONDS",
                   help="log when the event loop stalls this long (0: off)")  # fmt: skip
    p.add_argument("--warn-interval", type=float, default=10.0, metavar="SECONDS",
                   help="log a repeated warning at most once per interval")  # fmt: skip
    p.add_argument("--reuse-port", action="store_true",
                   help="bind with SO_REUSEPORT, so a replacement server can start beside it")
    p.add_argument("--dev-job-data-path", default=None, help="dev: run a job with this JSON")
    p.add_argument("--dev-job-method", default=None, help="dev: the job's name")
    return p


def _timeouts(values: list[str]) -> tuple[float | None, dict[str, float]]:
    default: float | None = 1800.0
    per_cord: dict[str, float] = {}
    for value in values:
        name, _, seconds = value.rpartition("=")
        try:
            number = float(seconds)
        except ValueError:
            raise ChutesBuildError(
                f"--cord-timeout {value!r}: not a number of seconds",
                fix="pass --cord-timeout 600 or --cord-timeout NAME=600",
            ) from None
        if name:
            per_cord[name] = number
        else:
            default = number or None
    return default, per_cord


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
    timeout, timeouts = _timeouts(args.cord_timeout)
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
        deploy_key=env.get("CHUTES_BUILD_DEPLOY_KEY") or None,
        log_level=args.log_level,
        http=args.http,
        port_mappings=_port_mappings(args.port, args.logging_port, env),
        cord_timeout_s=timeout,
        cord_timeouts=timeouts,
        loop_lag_warn_s=args.loop_lag_warn,
        warn_interval_s=args.warn_interval,
        job_data_path=args.dev_job_data_path,
        job_method=args.dev_job_method,
        reuse_port=args.reuse_port,
    )


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(sys.argv[1:] if argv is None else argv, dict(os.environ))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = Runtime(settings)
    try:
        started = runtime.run()
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
