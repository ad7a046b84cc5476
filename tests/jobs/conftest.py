"""Jobs through the HTTP API, run by the app's own dispatcher on the local queue, into the sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

CHECKPOINT = SEED.checkpoint_id
FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Short backoff (moved on with the clock) and a quick lease, for tests that retry."""
    return settings.model_copy(
        update={"tasks_min_backoff_seconds": 1.0, "tasks_max_backoff_seconds": 4.0, "tasks_max_attempts": 3}
    )


@pytest.fixture
async def writer(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(name="author"))


@pytest.fixture
async def admin(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(Scope.ADMIN, name="operator"))


async def follow(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    location: str,
    *,
    until: set[str] = FINISHED,
    clock: ManualClock | None = None,
    rounds: int = 600,
) -> dict[str, Any]:
    """The job once its status is in ``until``; moves ``clock`` a backoff on each round if given."""
    for _ in range(rounds):
        job: dict[str, Any] = (await client.get(location, headers=headers)).json()
        if job["status"] in until:
            return job
        if clock is not None:
            clock.advance(timedelta(seconds=5))
        await asyncio.sleep(0.05)
    raise AssertionError(f"job never reached {until}: {job}")


async def step_values(services: Services, checkpoint_id: int = CHECKPOINT) -> list[str | None]:
    return [step.value for step in await services.virtuoso.client.list_steps(checkpoint_id)]
