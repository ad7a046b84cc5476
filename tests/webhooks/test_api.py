"""``/api/v1/webhooks``: owner-scoped management, and every bad input a clear 4xx."""

from __future__ import annotations

import httpx

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope

URL = "http://127.0.0.1:9/hook"


async def test_owner_scoped_lifecycle(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    ana, bob = await make_key(name="ana"), await make_key(name="bob")
    admin = await make_key(Scope.ADMIN, name="root")
    made = await client.post(
        "/api/v1/webhooks",
        json={
            "url": URL,
            "events": ["run.finished", "command.executed", "run.finished"],
            "description": "CI",
        },
        headers=auth(ana),
    )
    assert made.status_code == 201
    hook = made.json()
    assert hook["events"] == ["command.executed", "run.finished"]
    assert hook["owner"] == "ana"
    path = f"/api/v1/webhooks/{hook['webhook_id']}"
    assert (await client.get(path, headers=auth(bob))).status_code == 404
    assert (await client.delete(path, headers=auth(bob))).status_code == 404
    assert (await client.get(path, headers=auth(admin))).status_code == 200
    assert [h["webhook_id"] for h in (await client.get("/api/v1/webhooks", headers=auth(ana))).json()] == [
        hook["webhook_id"]
    ]
    assert (await client.get("/api/v1/webhooks", headers=auth(bob))).json() == []
    changed = await client.patch(path, json={"events": [], "enabled": False}, headers=auth(ana))
    assert changed.json()["events"] == []
    assert changed.json()["enabled"] is False
    assert (await client.post(f"{path}/test", headers=auth(ana))).status_code == 409  # disabled
    assert (await client.delete(path, headers=auth(ana))).status_code == 204
    assert (await client.get(path, headers=auth(ana))).status_code == 404


async def test_bad_input_is_a_422_naming_the_field(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key(name="ana")
    cases = [
        ({"url": URL, "events": ["command.exploded"]}, "events[0]"),
        ({"url": URL, "surprise": 1}, "surprise"),
        ({"events": []}, "url"),
        ({"url": "https://" + "a" * 3000 + ".com"}, "url"),
        ({"url": "notaurl"}, "url"),
    ]
    for body, field in cases:
        refused = await client.post("/api/v1/webhooks", json=body, headers=auth(key))
        assert refused.status_code == 422, body
        assert refused.json()["error"]["details"][0]["field"] == field, refused.json()
    hook = (await client.post("/api/v1/webhooks", json={"url": URL}, headers=auth(key))).json()
    path = f"/api/v1/webhooks/{hook['webhook_id']}"
    nulled = await client.patch(path, json={"url": None}, headers=auth(key))
    assert nulled.status_code == 422
    rotated = await client.post(f"{path}/rotate-secret", json={"grace_seconds": -1}, headers=auth(key))
    assert rotated.status_code == 422
    replay = await client.post(
        "/api/v1/webhooks/dead-letters/replay",
        json={"delivery_ids": ["dlv_nope"], "all": True},
        headers=auth(key),
    )
    assert replay.status_code == 422
    unknown = await client.post("/api/v1/webhooks/dead-letters/dlv_nope/replay", headers=auth(key))
    assert unknown.status_code == 404
    cursor = await client.get(f"{path}/deliveries?cursor=forged", headers=auth(key))
    assert cursor.status_code == 400


async def test_read_keys_cannot_change_webhooks(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    reader = await make_key(Scope.READ, name="ana")
    assert (await client.post("/api/v1/webhooks", json={"url": URL}, headers=auth(reader))).status_code == 403
    assert (await client.get("/api/v1/webhooks", headers=auth(reader))).status_code == 200


async def test_null_events_are_refused_and_the_webhook_stays_readable(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    # Found by schemathesis: `"events": null` was stored, and every later read of the webhook (and
    # the caller's list) answered 500.
    who = auth(await make_key(name="ana"))
    hook = (await client.post("/api/v1/webhooks", json={"url": URL}, headers=who)).json()
    path = f"/api/v1/webhooks/{hook['webhook_id']}"

    for field in ("events", "enabled", "url"):
        nulled = await client.patch(path, json={field: None}, headers=who)
        assert nulled.status_code == 422, nulled.text
        assert nulled.json()["error"]["details"][0]["field"] == field

    assert (await client.get(path, headers=who)).json()["events"] == []
    assert [h["webhook_id"] for h in (await client.get("/api/v1/webhooks", headers=who)).json()] == [
        hook["webhook_id"]
    ]
