"""Deploy body, fee notice, sharing, keys and warmup against the stand-in."""

from __future__ import annotations

import json
import uuid

import pytest

from chutes_build import DeployError, NodeSelector
from chutes_build.platform import (
    PaymentRequired,
    PlatformConflict,
    PlatformError,
    deploy,
    deploy_body,
    ensure_image,
)

from .conftest import CHUTE_CODE, make_chute

BODY_FIELDS = [
    "name", "tagline", "readme", "logo_id", "image", "public", "standard_template",
    "node_selector", "filename", "ref_str", "code", "concurrency", "max_instances",
    "scaling_threshold", "shutdown_after_seconds", "allow_external_egress", "encrypted_fs", "tee",
    "lock_modules", "revision", "cords", "jobs",
]  # fmt: skip


def test_deploy_body_has_every_field():
    chute = make_chute(tagline="t", concurrency=4)
    body = deploy_body(chute, code=CHUTE_CODE, filename="my_chute.py", ref_str="my_chute:chute")
    assert list(body) == BODY_FIELDS
    assert body["image"] == chute.image.uid
    assert body["node_selector"] == chute.node_selector.dict()
    assert body["cords"] == [chute.cords[0].definition()]
    assert body["cords"][0]["path"] == "/echo"
    assert (body["concurrency"], body["public"], body["jobs"]) == (4, False, [])


def test_deploy_body_refuses_refs_the_platform_rejects():
    chute = make_chute()
    with pytest.raises(DeployError, match=r"^chute filename 'My_Chute\.py' is not accepted"):
        deploy_body(chute, code="", filename="My_Chute.py", ref_str="my_chute:chute")
    with pytest.raises(DeployError, match=r"^chute reference 'my_chute:Chute' is not accepted"):
        deploy_body(chute, code="", filename="my_chute.py", ref_str="my_chute:Chute")


async def _deploy(client, chute, **kwargs):
    return await deploy(client, chute, CHUTE_CODE, "my_chute.py", "my_chute:chute", **kwargs)


async def test_fee_notice_then_accepted_deploy(client, standin):
    chute = make_chute()
    await ensure_image(client, chute.image, {})
    with pytest.raises(PaymentRequired) as caught:
        await _deploy(client, chute)
    notice = caught.value.message
    assert notice.startswith("DEPLOYMENT FEE NOTICE:\n===\nThere is a deployment fee of ")
    assert "re-run" in str(caught.value) and "--accept-fee" in str(caught.value)
    response = await _deploy(client, chute, accept_fee=True)
    assert response["chute_id"] == str(uuid.uuid5(uuid.NAMESPACE_OID, "alice::chute::echo-chute"))
    version = uuid.uuid5(uuid.NAMESPACE_OID, f"{chute.image.uid}:initial:{CHUTE_CODE}")
    assert response["version"] == str(version)
    fee = round(3 * NodeSelector(gpu_count=1).hourly_price, 4)
    alice = next(u for u in standin.state.users.values() if u.username == "alice")
    assert alice.balance == pytest.approx(1000 - fee)
    sent = json.loads(standin.state.requests[-1].body)
    assert list(sent) == BODY_FIELDS
    assert standin.state.requests[-1].query == "accept_fee=true"
    with pytest.raises(PlatformConflict, match="already exists"):
        await _deploy(client, chute, accept_fee=True)


async def test_deploy_needs_a_built_image(client):
    with pytest.raises(DeployError, match=r"its image .* does not exist on the platform"):
        await _deploy(client, make_chute())


async def test_public_deploy_needs_permission(client):
    chute = make_chute()
    await ensure_image(client, chute.image, {}, public=True)
    with pytest.raises(DeployError, match="may not deploy public chutes"):
        await _deploy(client, chute, public=True)


async def test_node_selector_rules_are_the_servers(client, standin):
    chute = make_chute(node_selector=NodeSelector(gpu_count=1, include=["l40s", "h200"]))
    await ensure_image(client, chute.image, {})
    with pytest.raises(PlatformError, match=r"HTTP 400: The included GPUs' prices differ"):
        await _deploy(client, chute, accept_fee=True)
    assert standin.state.requests[-1].status == 400


async def test_share_warmup_and_api_keys(client, standin):
    chute = make_chute()
    await ensure_image(client, chute.image, {})
    await _deploy(client, chute, accept_fee=True)
    shared = await client.share_chute("echo-chute", "bob")
    assert shared["status"].startswith("Successfully shared chute=")
    with pytest.raises(PlatformError, match="cannot share a chute with yourself"):
        await client.share_chute("echo-chute", "alice")
    events = [e async for e in client.warmup("echo-chute")]
    assert [e["status"] for e in events] == ["cold", "cold", "hot"]
    key = await client.create_api_key("ci", admin=True)
    assert key["secret_key"].startswith("cpk_") and len(key["secret_key"]) == 102
    listed = await client.list_api_keys()
    assert [k["name"] for k in listed["items"]] == ["ci"]
    assert "secret_key" not in listed["items"][0]
    deleted = await client.delete_api_key(key["api_key_id"])
    assert deleted == {"api_key_id": key["api_key_id"], "deleted": True}


async def test_delete_chute_then_image(client):
    chute = make_chute()
    await ensure_image(client, chute.image, {})
    response = await _deploy(client, chute, accept_fee=True)
    with pytest.raises(PlatformConflict, match="Image is in use"):
        await client.delete_image(chute.image.uid)
    with pytest.raises(PlatformError, match="HTTP 400: Chute ID must be a UUID"):
        await client.delete_chute("echo-chute")
    assert await client.delete_chute(response["chute_id"]) == {
        "chute_id": response["chute_id"],
        "deleted": True,
    }
    assert (await client.delete_image("alice/echo:1.0"))["deleted"] is True
    assert await client.get_image(chute.image.uid, missing_ok=True) is None
