"""Image upload, build log streaming and ``ensure_image`` against the stand-in."""

from __future__ import annotations

import base64
import json
import threading
import uuid

import pytest

from chutes_build import Image
from chutes_build.platform import (
    ImageConflict,
    PaymentRequired,
    PlatformConflict,
    RemoteBuildFailed,
    SecretFileRefused,
    build_context,
    ensure_image,
    image_fields,
)

from .standin._multipart import parse_multipart

IMAGE = Image(username="alice", name="echo", tag="1.0").apt_install(["git"]).run_command("ls")
FILES = {"app.py": b"print('hi')\n"}


async def test_create_image_sends_every_field_and_gets_the_uuid5_id(client, standin):
    archive = build_context(FILES)
    row = await client.create_image(image_fields(IMAGE, archive))
    expected = str(uuid.uuid5(uuid.NAMESPACE_OID, "alice/echo:1.0"))
    assert row["image_id"] == expected == IMAGE.uid
    record = next(r for r in standin.state.requests if r.path == "/images/")
    assert record.headers["x-chutes-version"] == "0.6.9"
    form = parse_multipart(record.body, record.headers["content-type"])
    assert list(form) == [
        "username",
        "name",
        "tag",
        "readme",
        "dockerfile",
        "public",
        "logo_id",
        "wait",
        "image",
        "build_context",
    ]
    assert form["dockerfile"] == str(IMAGE)
    assert (form["public"], form["logo_id"], form["wait"]) == ("False", "__none__", "False")
    assert form["build_context"][:2] == ("chute.zip", "application/zip")
    description = json.loads(base64.b64decode(form["image"]))  # JSON, not a pickle
    assert description["format"] == "chutes-build/image-description/v1"
    assert standin.state.images[expected].context_zip == archive.data


async def test_second_upload_of_a_name_tag_is_409(client):
    fields = image_fields(IMAGE, build_context(FILES))
    await client.create_image(fields)
    with pytest.raises(PlatformConflict, match="aready exists"):
        await client.create_image(fields)


async def test_low_balance_402_is_shown_verbatim(client, standin):
    next(u for u in standin.state.users.values() if u.username == "alice").balance = 10
    with pytest.raises(PaymentRequired, match=r"^You must have a balance of >= \$50"):
        await client.create_image(image_fields(IMAGE, build_context(FILES)))


async def test_ensure_image_uploads_streams_logs_and_then_hits(client, standin):
    lines = []
    result = await ensure_image(client, IMAGE, FILES, on_log=lines.append)
    assert result.created and result.image_id == IMAGE.uid
    assert [line.text for line in lines] == [f"STEP: {s}" for s in str(IMAGE).splitlines()]
    again = await ensure_image(client, IMAGE, FILES, recorded_digest=result.digest)
    assert (again.created, again.digest) == (False, result.digest)
    assert sum(r.path == "/images/" for r in standin.state.requests) == 1


async def test_same_name_tag_with_other_content_is_a_conflict(client):
    first = await ensure_image(client, IMAGE, FILES)
    with pytest.raises(ImageConflict, match=r"(?s)alice/echo:1\.0 already exists.*tag='1\.1'"):
        await ensure_image(client, IMAGE, {"app.py": b"changed"}, recorded_digest=first.digest)


def _manual_build(state, row):
    state.emit_log(row.image_id, "step 1")
    state.emit_log(row.image_id, "warning: slow", "stderr")


async def test_sse_log_stream_with_keepalives_and_resume(client, standin):
    standin.state.build_mode = "manual"
    row = await client.create_image(image_fields(IMAGE, build_context(FILES)))
    image_id = row["image_id"]
    _manual_build(standin.state, standin.state.images[image_id])
    timer = threading.Timer(0.1, standin.state.finish_build, args=(image_id,))
    timer.start()
    got = [(line.stream, line.text) async for line in client.stream_image_logs(image_id)]
    timer.join()
    assert got == [("stdout", "step 1"), ("stderr", "warning: slow")]
    stream_request = [r for r in standin.state.requests if r.path.endswith("/logs")][0]
    assert stream_request.status == 200
    finished = [(line.stream, line.text) async for line in client.stream_image_logs(image_id)]
    assert finished == [("stdout", "step 1"), ("stdout", "warning: slow")]  # text/plain form


async def test_failed_remote_build_raises_with_the_log_tail(client, standin):
    def failing(state, row):
        state.emit_log(row.image_id, "E: Unable to locate package nope", "stderr")
        state.finish_build(row.image_id, "error: build failed")

    standin.state.build_mode = failing
    with pytest.raises(
        RemoteBuildFailed, match=r"(?s)status 'error: build failed'.*locate package"
    ):
        await ensure_image(client, IMAGE, FILES)


def test_secret_files_are_refused_unless_named():
    with pytest.raises(SecretFileRefused, match=r"^\.env: refusing to upload \.env: .*\.env\*"):
        build_context({"app.py": b"x", ".env": b"TOKEN=1"})
    archive = build_context({"app.py": b"x", ".env": b"TOKEN=1"}, explicit=[".env"])
    assert archive.files == (".env", "app.py")


def test_context_zip_is_deterministic_and_content_keyed(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a")
    first = build_context({"a.txt": str(tmp_path / "a.txt"), "b/c.txt": b"c"})
    second = build_context({"b/c.txt": b"c", "a.txt": b"a"})
    assert first.data == second.data and first.digest == second.digest
    assert build_context({"a.txt": b"A", "b/c.txt": b"c"}).digest != first.digest
    with pytest.raises(SecretFileRefused, match="not a relative path"):
        build_context({"../x": b"x"})


async def test_stand_in_never_unpickles_the_image_field(client, standin, tmp_path):
    import pickle

    marker = tmp_path / "unpickled"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    fields = image_fields(IMAGE, build_context(FILES))
    fields[8] = ("image", base64.b64encode(pickle.dumps(Boom())).decode())
    await client.create_image(fields)
    assert not marker.exists()
    assert standin.state.images[IMAGE.uid].description == fields[8][1]


async def test_ensure_image_reads_files_and_refuses_secrets(client, standin, tmp_path):
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "id_rsa").write_text("key")
    files = {"app.py": str(tmp_path / "app.py"), "keys/id_rsa": str(tmp_path / "id_rsa")}
    with pytest.raises(SecretFileRefused, match=r"refusing to upload keys/id_rsa: .*SSH"):
        await ensure_image(client, IMAGE, files)
    assert not any(r.path == "/images/" for r in standin.state.requests)
    result = await ensure_image(client, IMAGE, {"app.py": str(tmp_path / "app.py")})
    assert result.created


async def test_docker_build_hook_runs_a_real_build(client, standin, docker_engine, busybox_image):
    from .standin._docker import docker_build_hook

    docker = docker_engine
    standin.state.build_mode = docker_build_hook(docker)
    base = Image(username="alice", name="busy", tag="1.0").from_base(busybox_image)
    lines = []
    result = await ensure_image(
        client, base.run_command("echo built-by-standin"), FILES, on_log=lines.append
    )
    assert result.created
    assert standin.state.images[result.image_id].status == "built and pushed"
    assert any("built-by-standin" in line.text for line in lines)
    broken = (
        Image(username="alice", name="busy", tag="2.0")
        .from_base("chutes-build/busybox:latest")
        .run_command("exit 3")
    )
    with pytest.raises(RemoteBuildFailed, match="docker build exited with 1"):
        await ensure_image(client, broken, FILES)
