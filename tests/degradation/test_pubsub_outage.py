"""Events through a Pub/Sub outage, for real: the emulator is stopped while commands run, and started
again. Every event accepted meanwhile waits in the local outbox and is published once, in order, when
Pub/Sub answers; the commands themselves never notice."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.pubsub_emulator import PubSubEmulator, pubsub_emulator_or_skip
from tests.support import MakeKey, auth
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.events import SubscriptionSpec, build_events
from virtuoso_api.kit.clock import ManualClock, SystemClock
from virtuoso_api.services import Services

pytestmark = pytest.mark.pubsub


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[PubSubEmulator]:
    """An emulator of this test's own, so stopping it disturbs no other test."""
    private = PubSubEmulator(pubsub_emulator_or_skip(), tmp_path / "emulator")
    private.start()
    yield private
    private.stop()


@pytest.fixture
async def app(settings: Settings, emulator: PubSubEmulator, clock: ManualClock) -> AsyncIterator[FastAPI]:
    on_pubsub = settings.model_copy(
        update={
            "use_pubsub": True,
            "gcp_project_id": "demo-outage",
            "pubsub_emulator_host": emulator.host,
            "remote_retry_deadline_seconds": 1.0,
            "remote_attempt_timeout_seconds": 0.5,
        }
    )
    application = create_app(on_pubsub, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def comment(client: httpx.AsyncClient, key: str, text: str) -> None:
    body = {"command": "step-misc", "args": ["comment", text], "checkpoint_id": 1001}
    answer = await client.post("/api/v1/commands", json=body, headers=auth(key))
    assert answer.status_code == 201, answer.text


async def flushed(services: Services, clock: ManualClock) -> None:
    """Flush as the periodic job does until nothing waits, the breaker's cooldown passing each round (a
    channel may refuse the first calls after a restart)."""
    for _ in range(20):
        clock.advance(timedelta(seconds=services.settings.breaker_cooldown_seconds + 1))
        await services.outbox.flush()
        if await services.events.publisher.pending() == 0:
            break
    assert await services.events.publisher.pending() == 0


async def test_events_accepted_while_pubsub_is_down_are_published_once_when_it_returns(
    client: httpx.AsyncClient,
    make_key: MakeKey,
    services: Services,
    emulator: PubSubEmulator,
    clock: ManualClock,
) -> None:
    key = await make_key(name="ana")
    bus = services.events.capability.bus
    audit = SubscriptionSpec("audit", ordered=True)
    await bus.subscribe(audit)
    await comment(client, key, "before")

    emulator.stop()
    for n in range(3):
        await comment(client, key, f"during {n}")
    assert await services.events.publisher.pending() == 3

    emulator.start()
    # An emulator comes back empty, unlike Pub/Sub after an outage: the subscription is made again, as
    # a deploy would, before the service's breaker lets its outbox publish (the service's clock stands
    # still until ``flushed``), or what it publishes first would reach no subscription.
    async with build_events(services.settings, clock=SystemClock()) as other:
        for _ in range(20):  # a new channel may refuse the first calls after a restart
            with contextlib.suppress(BackendUnavailable):
                await other.bus.subscribe(audit)
                break
            await asyncio.sleep(0.5)
    await flushed(services, clock)
    await services.outbox.flush()  # nothing more to publish: no duplicate

    received: list[dict[str, Any]] = []
    quiet_pulls = 0  # once all three are in, four empty pulls in a row: a duplicate would have come
    for _ in range(40):
        batch = await bus.pull(audit.name, wait_seconds=0.5)
        await bus.ack(audit.name, [r.ack_id for r in batch])
        received += [json.loads(r.message.data) for r in batch]
        arrived = sum(e["type"] == "command.executed" for e in received)
        quiet_pulls = quiet_pulls + 1 if not batch and arrived >= 3 else 0
        if quiet_pulls == 4:
            break
    commands = [e["data"]["args"][1] for e in received if e["type"] == "command.executed"]
    assert commands == ["during 0", "during 1", "during 2"]


async def test_readiness_names_a_stopped_pubsub_and_the_events_waiting_for_it(
    client: httpx.AsyncClient,
    make_key: MakeKey,
    services: Services,
    emulator: PubSubEmulator,
    clock: ManualClock,
) -> None:
    key = await make_key(name="ana")
    ready = (await client.get("/health/ready")).json()
    assert ready["backends"]["events"] | {"latency_ms": 0} == {
        "backend": "pubsub",
        "status": "ok",
        "latency_ms": 0,
        "pending_events": 0,
    }

    emulator.stop()
    await comment(client, key, "during")  # accepted: the command never notices
    answer = await client.get("/health/ready")
    assert answer.status_code == 503
    events = answer.json()["backends"]["events"]
    assert (events["backend"], events["status"], events["check"]) == (
        "pubsub",
        "unavailable",
        "PUBSUB_EMULATOR_HOST",
    )
    assert events["pending_events"] == 1
    assert "events (pubsub)" in answer.json()["error"]["message"]

    emulator.start()
    await flushed(services, clock)
    answer = await client.get("/health/ready")
    assert answer.status_code == 200, answer.text
    assert answer.json()["backends"]["events"]["pending_events"] == 0
