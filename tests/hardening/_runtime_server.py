"""Serve the hardening chute in its own process (``python -m tests.hardening._runtime_server``).

``--mode dev`` serves plain JSON; ``--mode prod`` also runs the test validator
(tests/runtime/validator.py) in this process, completes the launch handshake
with a fake GPU, and serves with signatures and encryption for every client
(``trust_localhost`` off). The first stdout line is JSON: ``{"port", "key"}``
(``key``: the session key, hex, in production mode).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading

from chutes_runtime import Runtime, Settings

CHUTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_runtime_chute.py")
MINER_URI, VALIDATOR_URI = "//Bob", "//Alice"


def _validator() -> object:
    import uvicorn

    from tests.conftest import free_port
    from tests.runtime.validator import Validator

    with open(CHUTE) as handle:
        app = Validator(handle.read())
    app.port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=app.port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        threading.Event().wait(0.02)
    return app


def _settings(args: argparse.Namespace) -> tuple[Settings, object, object]:
    common = {
        "target": CHUTE + ":chute",
        "host": "127.0.0.1",
        "port": args.port,
        "log_level": "warning",
        "max_body_bytes": args.max_body,
        "body_timeout_s": args.body_timeout,
    }
    if args.mode == "dev":
        return Settings(dev=True, **common), None, None
    from substrateinterface import Keypair

    from tests.runtime.validator import FakeGpu, make_jwt

    validator = _validator()
    claims = {"url": validator.base, "sub": "cfg-1", "chute_id": "chute-1", "env_type": "graval"}
    settings = Settings(
        miner_ss58=Keypair.create_from_uri(MINER_URI).ss58_address,
        validator_ss58=Keypair.create_from_uri(VALIDATOR_URI).ss58_address,
        launch_jwt=make_jwt(claims),
        trust_localhost=False,
        **common,
    )
    return settings, FakeGpu(), validator


async def _main(args: argparse.Namespace) -> None:
    settings, gpu, validator = _settings(args)
    runtime = Runtime(settings, gpu=gpu)
    task = asyncio.ensure_future(runtime.serve())
    while not runtime.started.is_set() and not task.done():
        await asyncio.sleep(0.02)
    key = getattr(validator, "session_key", None)
    print(json.dumps({"port": args.port, "key": key.hex() if key else None}), flush=True)
    await task


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("dev", "prod"), default="dev")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--max-body", type=int, default=1024 * 1024)
    p.add_argument("--body-timeout", type=float, default=60.0)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
