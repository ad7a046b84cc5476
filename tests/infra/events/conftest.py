"""The events contract suite runs once per adapter: the local log, and Pub/Sub on Google's emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from virtuoso_api.config import Settings
from virtuoso_api.infra.events import EventBus, Message, Received, SubscriptionSpec, build_events
from virtuoso_api.kit.clock import ManualClock


@dataclass
class BusUnderTest:
    bus: EventBus
    clock: ManualClock
    #: Lets the leases taken so far run out: the local log's clock moves; Pub/Sub's real one must pass.
    expire_leases: Callable[[int], Awaitable[None]]

    def spec(self, name: str | None = None, **changes: object) -> SubscriptionSpec:
        return SubscriptionSpec(name or f"sub-{uuid.uuid4().hex[:10]}", **changes)  # type: ignore[arg-type]

    async def pull_until(
        self, subscription: str, count: int, *, ack: bool = True, rounds: int = 60
    ) -> list[Received]:
        """Pull (waiting up to a second each round) until ``count`` messages came; acking each."""
        received: list[Received] = []
        for _ in range(rounds):
            batch = await self.bus.pull(subscription, max_messages=count - len(received), wait_seconds=1)
            if ack:
                await self.bus.ack(subscription, [r.ack_id for r in batch])
            received += batch
            if len(received) >= count:
                return received
        return received

    async def dead_letters_of(self, subscription: str, count: int, *, rounds: int = 60) -> list[Message]:
        """The subscription's dead letters once ``count`` are there: the local log sets a message
        aside at the next pull; Pub/Sub forwards it to the dead-letter topic in its own time."""
        dead: list[Message] = []
        for _ in range(rounds):
            await self.bus.pull(subscription, wait_seconds=0.5)  # the pull that finds it out of attempts
            dead = await self.bus.dead_letters(subscription)
            if len(dead) >= count:
                break
        return dead


@pytest.fixture(params=["sqlite", pytest.param("pubsub", marks=pytest.mark.pubsub)])
async def under_test(
    request: pytest.FixtureRequest, settings: Settings, clock: ManualClock
) -> AsyncIterator[BusUnderTest]:
    if request.param == "pubsub":
        emulator = request.getfixturevalue("pubsub_emulator")
        project = request.getfixturevalue("pubsub_project")
        settings = settings.model_copy(
            update={"use_pubsub": True, "gcp_project_id": project, "pubsub_emulator_host": emulator.host}
        )

    async def expire(deadline_seconds: int) -> None:
        if request.param == "sqlite":
            clock.advance(timedelta(seconds=deadline_seconds + 1))
        else:
            await asyncio.sleep(deadline_seconds + 1)

    async with build_events(settings, clock=clock) as events:
        yield BusUnderTest(events.bus, clock, expire)
