"""POST /logos/: the client's signed multipart upload and the stand-in's checks."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from chutes_build.platform import PlatformError, encode_multipart, upload_logo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


async def test_client_uploads_a_logo_signed_over_the_multipart_body(client, standin, tmp_path):
    path = tmp_path / "logo.png"
    path.write_bytes(PNG)
    logo_id = await upload_logo(client, str(path))
    record = standin.state.requests[-1]
    assert (record.method, record.path, record.status) == ("POST", "/logos/", 200)
    assert record.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="logo"; filename="logo.png"\r\nContent-Type: image/png\r\n' in record.body
    row = standin.state.logos[logo_id]
    assert (row.filename, row.content_type, row.data) == ("logo.png", "image/png", PNG)


async def test_answer_has_the_platform_shape(client, standin):
    answer = await client.upload_logo("a.gif", b"GIF89a" + b"\x00" * 8, "image/gif")
    assert answer == {"logo_id": answer["logo_id"], "path": f"/logos/{answer['logo_id']}.webp"}


async def test_non_image_content_type_is_a_400(client, standin):
    with pytest.raises(PlatformError, match=r"POST /logos/ failed: HTTP 400") as caught:
        await client.upload_logo("notes.txt", b"hello", "text/plain")
    assert caught.value.status == 400
    assert standin.state.requests[-1].status == 400
    assert standin.state.logos == {}


def test_tampered_multipart_body_is_rejected(standin, alice_signer):
    body, content_type = encode_multipart([("logo", ("a.png", PNG, "image/png"))], "b0undary")
    sent = body.replace(PNG, PNG[:-1] + b"\x01")
    nonce = str(int(time.time()))
    message = f"{alice_signer.ss58_address}:{nonce}:{hashlib.sha256(body).hexdigest()}"
    headers = {"X-Chutes-Hotkey": alice_signer.ss58_address, "X-Chutes-Nonce": nonce,
               "X-Chutes-Signature": alice_signer.sign(message),
               "Content-Type": content_type}  # fmt: skip
    assert httpx.post(f"{standin.url}/logos/", content=sent, headers=headers).status_code == 401
    ok = httpx.post(f"{standin.url}/logos/", content=body, headers=headers)
    assert ok.status_code == 200 and len(standin.state.logos) == 1
    assert [r.status for r in standin.state.requests if r.path == "/logos/"] == [401, 200]


async def test_unsigned_upload_is_a_401(standin):
    body, content_type = encode_multipart([("logo", ("a.png", PNG, "image/png"))])
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{standin.url}/logos/", content=body, headers={"Content-Type": content_type}
        )
    assert response.status_code == 401
    assert not standin.state.logos
