"""On Pub/Sub, each instance mirrors the topic into its own journal, which the live stream follows."""

from __future__ import annotations

import asyncio
import json

import pytest

from virtuoso_api.config import Settings
from virtuoso_api.events.stream import Reset
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services

pytestmark = pytest.mark.pubsub


async def test_events_published_anywhere_reach_this_instances_journal_in_order(
    settings: Settings, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    emulator = request.getfixturevalue("pubsub_emulator")
    on_pubsub = settings.model_copy(
        update={
            "use_pubsub": True,
            "gcp_project_id": request.getfixturevalue("pubsub_project"),
            "pubsub_emulator_host": emulator.host,
        }
    )
    async with Services.running(on_pubsub, clock=clock, background=True) as services:
        assert services.events.mirror is not None
        await (
            services.events.mirror.ensure()
        )  # the instance's subscription exists before anything is published
        follower = services.events.follow(owner="ana", types=["session.created"], from_start=True)
        published = [
            await services.events.publisher.publish("session.created", {"session_id": f"s{n}"}, owner="ana")
            for n in range(3)
        ]
        await services.events.publisher.publish("session.created", {"session_id": "other"}, owner="bob")
        seen = []
        async with asyncio.timeout(60):
            async for item in follower:
                assert not isinstance(item, Reset)
                seen.append(json.loads(item.message.data)["id"])
                if len(seen) == 3:
                    break
    assert seen == [event.id for event in published]
