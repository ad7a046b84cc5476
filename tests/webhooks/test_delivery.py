"""Webhook deliveries end to end: a real event, a real receiver on a socket, the library's own
signature checker, and retries moved along by the service's clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support import MakeKey, auth
from tests.webhooks.conftest import SCHEDULE
from tests.webhooks.receiver import receiving, statuses
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.infra.documents import Query
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services
from virtuoso_api.webhooks.deliveries import ATTEMPT_NOW, DISABLE_AFTER, JITTER


async def make_hook(client: httpx.AsyncClient, key: str, url: str, **body: object) -> dict[str, Any]:
    made = await client.post("/api/v1/webhooks", json={"url": url, **body}, headers=auth(key))
    assert made.status_code == 201, made.text
    hook: dict[str, Any] = made.json()
    return hook


async def start_session(client: httpx.AsyncClient, key: str) -> str:
    made = await client.post("/api/v1/sessions", json={"checkpoint_id": "cp_1001"}, headers=auth(key))
    assert made.status_code == 201
    return str(made.json()["session_id"])


async def attempted(services: Services, count: int, *, rounds: int = 200) -> None:
    """Until this process has made and recorded ``count`` attempts in all (counted, bounded in rounds)."""
    for _ in range(rounds):
        if services.webhooks.deliveries.attempted >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {services.webhooks.deliveries.attempted} attempts of {count}")


async def run_retries(services: Services, clock: ManualClock, delay: float) -> int:
    """Move the clock past one delay of the schedule (its jitter included) and run what is due."""
    clock.advance(timedelta(seconds=delay * (1 + JITTER) + 1))
    return await services.webhooks.deliveries.deliver_due()


async def test_a_delivery_verifies_with_the_librarys_checker_and_a_tampered_body_does_not(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key(name="ana")
    async with receiving() as receiver:
        hook = await make_hook(client, key, receiver.url, events=["session.created"])
        assert hook["secret"].startswith("whsec_")
        session_id = await start_session(client, key)
        (request,) = await receiver.wait_for(1)
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "session.created"
    assert payload["data"]["session_id"] == session_id
    assert payload["owner"] == "ana"
    assert payload["specversion"] == "1.0"
    assert request.headers["webhook-id"].startswith("dlv_")
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(request.body.replace(b"ana", b"bob"), request.headers)
    other = (await make_hook(client, key, receiver.url))["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


async def test_only_the_chosen_types_of_the_owners_events_are_delivered(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    ana, bob = await make_key(name="ana"), await make_key(name="bob")
    async with receiving() as receiver:
        await make_hook(client, ana, receiver.url, events=["session.ended"])
        session_id = await start_session(client, ana)  # session.created: not chosen
        await start_session(client, bob)  # bob's: never ana's webhook's
        await client.delete(f"/api/v1/sessions/{session_id}", headers=auth(ana))
        (request,) = await receiver.wait_for(1)
        await services.webhooks.consumer.pump()
    assert json.loads(request.body)["type"] == "session.ended"
    assert len(receiver.requests) == 1


async def test_a_receiver_down_for_a_while_gets_the_event_once_with_the_same_webhook_id(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
) -> None:
    key = await make_key(name="ana")
    async with receiving(answer=statuses(503, 500)) as receiver:
        hook = await make_hook(client, key, receiver.url)
        await start_session(client, key)
        await attempted(services, 1)
        assert await services.webhooks.deliveries.deliver_due() == 0  # not due yet
        assert await run_retries(services, clock, SCHEDULE[0]) == 1
        assert await run_retries(services, clock, SCHEDULE[1]) == 1
        assert await run_retries(services, clock, SCHEDULE[2]) == 0  # delivered: nothing left
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(receiver.requests) == 3
    assert len(ids) == 1
    assert len({request.body for request in receiver.requests}) == 1
    log = (await client.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries", headers=auth(key))).json()
    (delivery,) = log["deliveries"]
    assert delivery["delivery_id"] in ids
    assert delivery["state"] == "delivered"
    assert delivery["next_attempt_at"] is None
    assert [a["status_code"] for a in delivery["attempts"]] == [503, 500, 200]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])


async def test_a_receiver_that_always_fails_ends_in_the_dead_letters_and_a_replay_delivers_it(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
) -> None:
    key = await make_key(name="ana")
    failing = True
    async with receiving(answer=lambda: 500 if failing else 204) as receiver, receiving() as watching:
        hook = await make_hook(client, key, receiver.url, events=["session.created"])
        await make_hook(client, key, watching.url, events=["webhook.delivery_failed"])
        await start_session(client, key)
        await attempted(services, 1)
        log = f"/api/v1/webhooks/{hook['webhook_id']}/deliveries"
        for delay in SCHEDULE:
            pending = (await client.get(log, headers=auth(key))).json()
            assert pending["deliveries"][0]["state"] == "pending"
            await run_retries(services, clock, delay)
        dead = (await client.get("/api/v1/webhooks/dead-letters", headers=auth(key))).json()["deliveries"]
        assert len(dead) == 1
        assert dead[0]["state"] == "dead"
        assert len(dead[0]["attempts"]) == len(SCHEDULE) + 1
        # The dead letter was announced, to another webhook of the owner.
        await attempted(services, len(SCHEDULE) + 2)
        (announced,) = await watching.wait_for(1)
        await run_retries(services, clock, SCHEDULE[-1])
        assert len(receiver.requests) == len(SCHEDULE) + 1  # dead: never tried again
        failed = json.loads(announced.body)
        assert failed["type"] == "webhook.delivery_failed"
        assert failed["data"]["delivery_id"] == dead[0]["delivery_id"]
        assert failed["subject"] == f"webhook/{hook['webhook_id']}"

        failing = False
        replayed = await client.post(
            f"/api/v1/webhooks/dead-letters/{dead[0]['delivery_id']}/replay", headers=auth(key)
        )
        assert replayed.status_code == 200
        assert replayed.json() == {"replayed": 1, "delivery_ids": [dead[0]["delivery_id"]]}
    delivered = (await client.get(log, headers=auth(key))).json()
    assert delivered["deliveries"][0]["state"] == "delivered"
    assert delivered["deliveries"][0]["replays"] == 1
    assert (await client.get("/api/v1/webhooks/dead-letters", headers=auth(key))).json()["deliveries"] == []
    assert {r.headers["webhook-id"] for r in receiver.requests} == {dead[0]["delivery_id"]}
    assert len(receiver.requests) == len(SCHEDULE) + 2


async def test_dead_letters_replay_in_bulk(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
) -> None:
    key = await make_key(name="ana")
    failing = True
    async with receiving(answer=lambda: 500 if failing else 200) as receiver:
        hook = await make_hook(client, key, receiver.url, events=["session.created"])
        for _ in range(2):
            await start_session(client, key)
        await attempted(services, 2)
        for delay in SCHEDULE:
            await run_retries(services, clock, delay)
        refused = await client.post("/api/v1/webhooks/dead-letters/replay", json={}, headers=auth(key))
        assert refused.status_code == 422
        failing = False
        replayed = await client.post(
            "/api/v1/webhooks/dead-letters/replay",
            json={"all": True, "webhook_id": hook["webhook_id"]},
            headers=auth(key),
        )
    assert replayed.json()["replayed"] == 2
    assert (await client.get("/api/v1/webhooks/dead-letters", headers=auth(key))).json()["deliveries"] == []


async def test_a_bulk_replay_attempts_a_few_in_the_request_and_the_periodic_run_sends_the_rest(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
) -> None:
    key = await make_key(name="ana")
    failing = True
    letters = ATTEMPT_NOW + 2
    async with receiving(answer=lambda: 500 if failing else 200) as receiver:
        hook = await make_hook(client, key, receiver.url, events=["session.created"])
        for _ in range(letters):
            await start_session(client, key)
        # The first DISABLE_AFTER dead letters disable the webhook; the others then die unsent.
        dead: list[dict[str, Any]] = []
        for _ in range(10):  # rounds, not seconds: first attempts are made in the background
            await services.webhooks.consumer.pump()
            for delay in SCHEDULE:
                await run_retries(services, clock, delay)
            page = await client.get("/api/v1/webhooks/dead-letters?limit=100", headers=auth(key))
            if len(dead := page.json()["deliveries"]) == letters:
                break
            await asyncio.sleep(0.1)
        assert len(dead) == letters
        enabled = await client.patch(
            f"/api/v1/webhooks/{hook['webhook_id']}", json={"enabled": True}, headers=auth(key)
        )
        assert enabled.status_code == 200
        failing = False
        before = len(receiver.requests)
        replayed = await client.post(
            "/api/v1/webhooks/dead-letters/replay", json={"all": True}, headers=auth(key)
        )
        assert replayed.json()["replayed"] == letters
        assert len(receiver.requests) - before == ATTEMPT_NOW
        assert await services.webhooks.deliveries.deliver_due() == letters - ATTEMPT_NOW
        assert len(receiver.requests) - before == letters


async def test_a_webhook_that_keeps_failing_is_disabled_with_an_event(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, clock: ManualClock
) -> None:
    key = await make_key(name="ana")
    async with receiving(answer=lambda: 500) as receiver:
        hook = await make_hook(client, key, receiver.url, events=["session.created"])
        for _ in range(DISABLE_AFTER):
            await start_session(client, key)
        await attempted(services, DISABLE_AFTER)
        for delay in SCHEDULE:
            await run_retries(services, clock, delay)
        shown = (await client.get(f"/api/v1/webhooks/{hook['webhook_id']}", headers=auth(key))).json()
        assert shown["enabled"] is False
        assert "in a row" in shown["disabled_reason"]
        before = len(receiver.requests)
        await start_session(client, key)  # a disabled webhook gets nothing
        await services.webhooks.consumer.pump()
        assert len(receiver.requests) == before
    disabled = [logged async for logged in _journal(services, types=["webhook.disabled"])]
    assert [json.loads(e)["data"]["webhook_id"] for e in disabled] == [hook["webhook_id"]]
    enabled = await client.patch(
        f"/api/v1/webhooks/{hook['webhook_id']}", json={"enabled": True}, headers=auth(key)
    )
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] is None


async def _journal(services: Services, *, types: list[str]) -> AsyncIterator[bytes]:
    journal = services.events.capability.journal
    for logged in await journal.read(after=0, limit=1000, where={"type": types}):
        yield logged.message.data


async def test_a_rotated_secret_and_the_old_one_both_verify_until_the_grace_ends(
    client: httpx.AsyncClient, make_key: MakeKey, clock: ManualClock
) -> None:
    key = await make_key(name="ana")
    async with receiving() as receiver:
        hook = await make_hook(client, key, receiver.url, events=["session.created"])
        rotated = await client.post(
            f"/api/v1/webhooks/{hook['webhook_id']}/rotate-secret",
            json={"grace_seconds": 3600},
            headers=auth(key),
        )
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        assert new != hook["secret"]
        await start_session(client, key)
        (during,) = await receiver.wait_for(1)
        clock.advance(timedelta(hours=1, seconds=1))
        await start_session(client, key)
        after = (await receiver.wait_for(2))[1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, hook["secret"]):
        Webhook(secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    # The library refuses a timestamp an hour off the wall clock; the signature is what is checked here.
    expected = Webhook(new).sign(after.headers["webhook-id"], clock.now(), after.body.decode())
    assert after.headers["webhook-signature"] == expected
    shown = (await client.get(f"/api/v1/webhooks/{hook['webhook_id']}", headers=auth(key))).json()
    assert "secret" not in shown


async def test_a_redirect_is_not_followed(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    key = await make_key(name="ana")
    async with receiving(answer=lambda: 302) as receiver:
        hook = await make_hook(client, key, receiver.url)
        tested = await client.post(f"/api/v1/webhooks/{hook['webhook_id']}/test", headers=auth(key))
    assert tested.status_code == 200
    result = tested.json()
    assert result["delivered"] is False
    assert result["delivery"]["state"] == "failed"
    assert "redirect, not followed" in result["delivery"]["attempts"][0]["error"]
    assert [r.path for r in receiver.requests] == ["/hook"]  # never the Location


async def test_a_slow_receiver_times_out(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, settings: object
) -> None:
    key = await make_key(name="ana")
    services.webhooks.deliveries._sender._http.timeout = httpx.Timeout(0.2)
    async with receiving(delay_seconds=2) as receiver:
        hook = await make_hook(client, key, receiver.url)
        tested = (await client.post(f"/api/v1/webhooks/{hook['webhook_id']}/test", headers=auth(key))).json()
    assert tested["delivered"] is False
    assert tested["delivery"]["attempts"][0]["error"] == "timed out"


async def test_the_test_route_delivers_a_signed_test_event(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key(name="ana")
    async with receiving() as receiver:
        hook = await make_hook(client, key, receiver.url)
        tested = await client.post(f"/api/v1/webhooks/{hook['webhook_id']}/test", headers=auth(key))
        (request,) = await receiver.wait_for(1)
    assert tested.json()["delivered"] is True
    assert tested.json()["delivery"]["test"] is True
    event = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert event["type"] == "webhook.test"
    assert event["data"]["webhook_id"] == hook["webhook_id"]


async def test_secrets_appear_in_no_stored_delivery_and_no_answer(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    key = await make_key(Scope.ADMIN, name="ana")
    async with receiving(answer=lambda: 500) as receiver:
        hook = await make_hook(client, key, receiver.url)
        await client.post(f"/api/v1/webhooks/{hook['webhook_id']}/test", headers=auth(key))
        await start_session(client, key)
        await receiver.wait_for(2)
    secret = hook["secret"]
    stored = await services.documents.query(Query("webhook_deliveries"))
    hooks = await services.documents.get("webhooks", hook["webhook_id"])
    assert hooks is not None
    texts = [json.dumps(doc.data) for doc in stored.documents] + [json.dumps(hooks.data)]
    listed = await client.get(f"/api/v1/webhooks/{hook['webhook_id']}/deliveries", headers=auth(key))
    texts += [listed.text, (await client.get("/api/v1/webhooks", headers=auth(key))).text, caplog.text]
    raw = secret.removeprefix("whsec_")
    assert all(raw not in text and secret not in text for text in texts)
    assert len(stored.documents) == 2
