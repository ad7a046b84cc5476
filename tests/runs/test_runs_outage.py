"""Virtuoso goes away while a run is followed: the wait ends with a 503 once Virtuoso has been
unreachable for RUN_UNREACHABLE_SECONDS (on the service's clock), never with a verdict it did not give."""

from __future__ import annotations

import httpx
import pytest

from tests.runs.conftest import ServedSandbox, add_step
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"run_unreachable_seconds": 20.0})


async def test_virtuoso_stopped_mid_run_ends_the_wait_with_a_503(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    clock: ManualClock,
) -> None:
    await add_step(sandbox, "one")
    started = await client.post("/api/v1/runs", headers=writer, json={"goal_id": SEED.goal_id})
    (execution_id,) = started.json()["execution_ids"]
    await sandbox.stop()
    before = clock.now()

    response = await client.get(f"/api/v1/runs/{execution_id}", params={"wait": 60}, headers=writer)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert (error["type"], error["details"]["backend"]) == ("service_unavailable", "virtuoso")
    waited = (clock.now() - before).total_seconds()
    assert 20 <= waited < 60  # gave up after RUN_UNREACHABLE_SECONDS, before the caller's 60 s
    assert services.runs.watcher.following == 0

    # The record says the run was started and has not been seen ending: nothing was made up.
    (record,) = (await client.get("/api/v1/runs", headers=writer)).json()["runs"]
    assert (record["execution_id"], record["finished"], record["verdict"]) == (execution_id, False, "running")
