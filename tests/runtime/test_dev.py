"""Dev mode over real HTTP: routing, codecs, outputs, streams, errors, limits, hooks, health."""

from __future__ import annotations

import socket
import threading

import httpx
import msgspec
import pytest

from .conftest import Served


def post(served: Served, path: str, **kwargs) -> httpx.Response:
    return httpx.post(served.url + path, timeout=30, **kwargs)


def test_cord_served_at_path_and_public_path(dev: Served) -> None:
    assert post(dev, "/echo", json={"text": "ab", "times": 2}).json() == {"text": "abab"}
    assert post(dev, "/v1/echo", json={"text": "ab"}).json() == {"text": "ab"}


def test_get_public_path_takes_query_params_and_sync_cords_run_in_pool(dev: Served) -> None:
    answer = httpx.get(dev.url + "/v1/square", params={"n": 7}).json()
    assert answer["square"] == 49
    assert answer["thread"].startswith("cord")


def test_get_public_path_equal_to_the_cord_path_is_served_in_dev_mode(dev: Served) -> None:
    assert httpx.get(dev.url + "/cube", params={"n": 3}).json() == {"cube": 27}
    assert post(dev, "/cube", json={"n": 2}).json() == {"cube": 8}


def test_msgpack_body(dev: Served) -> None:
    body = msgspec.msgpack.encode({"text": "a", "times": 3})
    answer = post(dev, "/echo", content=body, headers={"content-type": "application/msgpack"})
    assert answer.json() == {"text": "aaa"}


def test_malformed_json_is_400(dev: Served) -> None:
    answer = post(dev, "/echo", content=b'{"text":', headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("malformed JSON body")


def test_validation_error_is_422_with_field_path(dev: Served) -> None:
    answer = post(dev, "/echo", json={"text": 5})
    assert answer.status_code == 422
    assert answer.json()["detail"] == "Expected `str`, got `int` - at `$.text`"
    answer = httpx.get(dev.url + "/v1/square", params={"n": "x"})
    assert answer.status_code == 422
    assert "$.n" in answer.json()["detail"]


def test_unknown_path_404_and_wrong_method_405(dev: Served) -> None:
    assert post(dev, "/nope").status_code == 404
    assert httpx.get(dev.url + "/echo").status_code == 405


def test_user_exception_is_500_with_fixed_body(dev: Served) -> None:
    answer = post(dev, "/boom", json={})
    assert answer.status_code == 500
    assert answer.json() == {"detail": "Internal Server Error"}
    assert "secret" not in answer.text


def test_issue_13_str_results_are_json_whatever_content_type_is_declared(dev: Served) -> None:
    """The SDK's server JSON-encodes every plain result; ``output_content_type`` is only
    what the platform is told. Raw bytes and Response objects keep their own type."""
    text = post(dev, "/shout", json={"text": "hi"})
    assert (text.content, text.headers["content-type"]) == (b'"HI"', "application/json")
    raw = post(dev, "/raw")
    assert (raw.content, raw.headers["content-type"]) == (b"\x89PNG-bytes", "image/png")
    file = post(dev, "/file")
    assert file.text == "file body"
    assert file.headers["content-type"].startswith("text/plain")


def test_no_parameter_cord_sees_hooks_in_priority_order(dev: Served) -> None:
    assert post(dev, "/hooks").json() == {"order": ["first", "second"]}


@pytest.mark.parametrize("path", ["/tokens", "/sync_tokens"])
def test_generator_cords_stream(dev: Served, path: str) -> None:
    with httpx.stream("POST", dev.url + path, json={"n": 3}) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_raw())
    if path == "/tokens":
        assert body == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    else:
        assert body == b'data: {"i":0}\n\ndata: {"i":1}\n\ndata: {"i":2}\n\n'


def test_stream_failing_before_first_chunk_is_500(dev: Served) -> None:
    answer = post(dev, "/bad_stream", json={})
    assert (answer.status_code, answer.json()) == (500, {"detail": "Error initializing stream"})


def test_body_over_limit_is_413_before_it_is_read(dev: Served) -> None:
    assert post(dev, "/echo", content=b"x" * 5000).status_code == 413
    port = int(dev.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:  # announces 100 MB, sends nothing
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")


def test_chunked_body_over_limit_is_413(dev: Served) -> None:
    def chunks():
        for _ in range(10):
            yield b"y" * 1000

    assert post(dev, "/echo", content=chunks()).status_code == 413


def test_concurrency_bound_and_health_while_cords_block(dev: Served) -> None:
    module = dev.app.module
    results: list[httpx.Response] = []
    threads = [
        threading.Thread(target=lambda: results.append(post(dev, "/block", json={})))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    while httpx.get(dev.url + "/_conn_stats").json()["in_flight"] < 3:
        threading.Event().wait(0.01)
    try:
        refused = post(dev, "/echo", json={"text": "x"})
        assert refused.status_code == 429
        assert refused.json() == {
            "error": "RateLimitExceeded",
            "detail": "Max concurrency exceeded: 3, try again later.",
        }
        assert httpx.get(dev.url + "/_ping").json()["ok"] is True
        assert httpx.get(dev.url + "/_metrics").status_code == 200
    finally:
        module.GATE.set()
        for thread in threads:
            thread.join(30)
    assert [r.json() for r in results] == [{"released": True}] * 3
    assert post(dev, "/echo", json={"text": "x"}).status_code == 200


def test_conn_headers_on_cord_responses(dev: Served) -> None:
    answer = post(dev, "/echo", json={"text": "x"})
    assert answer.headers["x-chutes-conn-used"] == "1"
    assert answer.headers["x-chutes-conn-available"] == "2"
    assert answer.headers["x-chutes-conn-utilization"] == "0.3333"


def test_prometheus_metrics(dev: Served) -> None:
    post(dev, "/echo", json={"text": "x"})
    text = httpx.get(dev.url + "/_metrics").text
    assert "# TYPE total_requests counter" in text
    assert f'total_requests{{chute_id="{dev.app.chute.uid}",function="echo",status="200"}}' in text
    assert "requests_in_flight{" in text


def test_openapi_from_cord_schemas(dev: Served) -> None:
    doc = httpx.get(dev.url + "/openapi.json").json()
    echo = doc["paths"]["/echo"]["post"]
    assert echo["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EchoIn"
    }
    assert doc["components"]["schemas"]["EchoIn"]["required"] == ["text"]
    assert "get" in doc["paths"]["/v1/square"]


def test_ping_post_echoes(dev: Served) -> None:
    assert post(dev, "/_ping", json={"foo": "bar"}).json() == {"foo": "bar"}


def test_upstream_error_status_passes_through(dev: Served) -> None:
    answer = post(dev, "/teapot", json={})
    assert (answer.status_code, answer.json()) == (418, {"error": "teapot"})


def test_shutdown_hooks_run_on_stop(upstream) -> None:
    from .conftest import serve

    served = serve("dev_chute.py:chute", dev=True)
    chute = served.app.chute
    served.stop()
    assert chute.order == ["first", "second", "shutdown"]
