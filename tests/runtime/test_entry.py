"""Entry points: `python -m chutes_runtime` settings, `chutes-build run`, and launch failures."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest

from chutes_build.core._errors import ChutesBuildError
from chutes_runtime import Runtime, Settings
from chutes_runtime.__main__ import parse_settings
from tests.conftest import free_port

from .conftest import CHUTES


def test_settings_read_cli_and_platform_environment() -> None:
    env = {
        "CHUTES_LAUNCH_JWT": "a.b.c",
        "CHUTES_PORT_PRIMARY": "31000",
        "CHUTES_PORT_TCP_9000": "32000",
    }
    argv = [
        "app:chute",
        "--port",
        "8000",
        "--miner-ss58",
        "m",
        "--validator-ss58",
        "v",
        "--max-body-mb",
        "1",
    ]
    settings = parse_settings(argv, env)
    assert (settings.dev, settings.launch_jwt, settings.max_body_bytes) == (
        False,
        "a.b.c",
        1024 * 1024,
    )
    assert settings.port_mappings == [
        {"proto": "tcp", "internal_port": 8000, "external_port": 31000, "default": True},
        {"proto": "tcp", "internal_port": 8001, "external_port": 8001, "default": True},
        {"proto": "TCP", "internal_port": 9000, "external_port": 32000, "default": False},
    ]


def test_production_without_keys_or_token_fails_with_a_fix() -> None:
    from chutes_runtime._production import LaunchError

    target = os.path.join(CHUTES, "sdk_chute.py:chute")
    with pytest.raises(
        LaunchError, match=r"^production mode needs --miner-ss58 and --validator-ss58\n  fix: "
    ):
        asyncio.run(Runtime(Settings(target=target)).serve())
    settings = Settings(target=target, miner_ss58="m", validator_ss58="v")
    with pytest.raises(LaunchError, match=r"^production mode needs CHUTES_LAUNCH_JWT\n  fix: "):
        asyncio.run(Runtime(settings).serve())


def test_missing_chute_file_is_a_load_error() -> None:
    from chutes_build import LoadError

    with pytest.raises(LoadError, match=r"no such chute file: .*nope\.py"):
        asyncio.run(Runtime(Settings(target="/nonexistent/nope.py:chute", dev=True)).serve())


def test_wrong_chute_name_lists_the_chutes_found() -> None:
    from chutes_build import LoadError

    target = os.path.join(CHUTES, "sdk_chute.py:nothere")
    with pytest.raises(LoadError, match=r"no chute named 'nothere' .*\(chutes found: chute\)"):
        asyncio.run(Runtime(Settings(target=target, dev=True)).serve())


@pytest.mark.parametrize("command", ["module", "cli"])
def test_entry_points_serve_in_a_subprocess(command: str) -> None:
    port = free_port()
    target = os.path.join(CHUTES, "sdk_chute.py") + ":chute"
    if command == "module":
        argv = [sys.executable, "-m", "chutes_runtime", target]
    else:
        argv = [os.path.join(os.path.dirname(sys.executable), "chutes-build"), "run", target]
    argv += ["--dev", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        answer = None
        for _ in range(600):
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/echo", json={"text": "hi"})
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.05)
        assert answer is not None and answer.json() == {"text": ">hi"}
    finally:
        proc.terminate()
        proc.wait(20)


def test_unreachable_validator_is_a_launch_error() -> None:
    import substrateinterface  # noqa: F401 - installed by scripts/setup (platform extra)

    from chutes_runtime._production import LaunchError

    from .validator import FakeGpu, make_jwt

    url = f"http://127.0.0.1:{free_port()}/instances/launch_config/cfg"
    settings = Settings(
        target=os.path.join(CHUTES, "sdk_chute.py:chute"),
        miner_ss58="5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
        validator_ss58="5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
        launch_jwt=make_jwt({"url": url}),
    )
    with pytest.raises(
        LaunchError, match=r"^cannot reach the validator at http://127\.0\.0\.1:\d+/.*/nonce"
    ):
        asyncio.run(Runtime(settings, gpu=FakeGpu()).serve())


def test_issue_13_chutes_build_run_serves_an_sdk_file_using_fastapi() -> None:
    port = free_port()
    argv = [os.path.join(os.path.dirname(sys.executable), "chutes-build"), "run",
            os.path.join(CHUTES, "wire_chute.py") + ":chute", "--dev", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                hello = httpx.post(url + "/hello", json={"name": "bob"})
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.05)
        assert (hello.headers["content-type"], hello.content) == (
            "application/json",
            b'"hello bob"',
        )
        missing = httpx.post(url + "/missing", json={"name": "x"})
        assert (missing.status_code, missing.json()) == (404, {"detail": "no item named x"})
        assert httpx.post(url + "/file", json={"name": "x"}).text == "file body\n"
    finally:
        proc.terminate()
        proc.wait(20)


def test_issue_12_cord_timeouts_from_the_command_line() -> None:
    settings = parse_settings(["x.py", "--cord-timeout", "30", "--cord-timeout", "gen=0"], {})
    assert (settings.timeout_for("any"), settings.timeout_for("gen")) == (30.0, None)
    assert parse_settings(["x.py"], {}).timeout_for("any") == 1800.0
    with pytest.raises(ChutesBuildError, match=r"^--cord-timeout 'gen=soon': not a number"):
        parse_settings(["x.py", "--cord-timeout", "gen=soon"], {})
