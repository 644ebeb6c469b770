"""An SDK-style chute file (``from chutes.chute import Chute``, pydantic input), unmodified."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pydantic  # noqa: E402,F401 - a test dependency
import pytest

from .conftest import Served, serve


@pytest.fixture(scope="module")
def sdk() -> Iterator[Served]:
    served = serve("sdk_chute.py:chute", dev=True)
    yield served
    served.stop()


def test_sdk_file_serves_on_path_and_public_path(sdk: Served) -> None:
    assert httpx.post(sdk.url + "/echo", json={"text": "ab", "times": 2}).json() == {
        "text": ">abab"
    }
    assert sdk.app.chute.concurrency == 64


def test_pydantic_validation_is_422_with_field_path(sdk: Served) -> None:
    answer = httpx.post(sdk.url + "/echo", json={"text": "ab", "times": 0})
    assert answer.status_code == 422
    assert answer.json()["detail"].endswith("- at `$.times`")
    missing = httpx.post(sdk.url + "/echo", json={})
    assert (missing.status_code, missing.json()["detail"]) == (422, "Field required - at `$.text`")


def test_sdk_cord_receives_a_model_instance(sdk: Served) -> None:
    cord = sdk.app.cords[0]
    assert cord.codec.pydantic
    assert type(cord.codec.decode(b'{"text":"x"}')).__name__ == "EchoIn"
