"""The record of each run, on either documents store: who started what and when, and how it ended
once the service saw it end, even when nobody waited for it."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.conftest import BACKENDS, on_backend
from tests.runs.conftest import ServedSandbox, add_step
from tests.support import MakeKey, auth
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.services import Services


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return on_backend(request, settings, request.param)


async def test_runs_nobody_waited_for_are_recorded_when_they_end(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    clock: ManualClock,
    make_key: MakeKey,
) -> None:
    await add_step(sandbox, f"x {FAIL_MARKER}")
    started = []
    for body in ({"goal_id": SEED.goal_id}, {"journey_id": SEED.journey_id}, {"plan_id": SEED.plan_id}):
        clock.advance(timedelta(seconds=1))  # records are listed newest first
        response = await client.post("/api/v1/runs", headers=writer, json=body)
        started.append(response.json()["execution_ids"][0])
    other = auth(await make_key(name="someone else"))
    assert (
        await client.post("/api/v1/runs", headers=other, json={"goal_id": SEED.goal_id})
    ).status_code == 202

    listed = (await client.get("/api/v1/runs", headers=writer)).json()["runs"]
    assert [(r["execution_id"], r["kind"], r["finished"]) for r in listed] == [
        (started[2], "plan", False),
        (started[1], "journey", False),
        (started[0], "goal", False),
    ]
    clock.advance(timedelta(minutes=1))
    assert await services.runs.settle() == 4  # what the periodic job does every minute
    listed = (await client.get("/api/v1/runs", params={"limit": 2}, headers=writer)).json()
    assert [(r["execution_id"], r["verdict"], r["status"]) for r in listed["runs"]] == [
        (started[2], "failed", "FINISHED"),
        (started[1], "failed", "FINISHED"),
    ]
    rest = (await client.get("/api/v1/runs", params={"cursor": listed["next_cursor"]}, headers=writer)).json()
    assert [r["execution_id"] for r in rest["runs"]] == [started[0]]
    assert await services.runs.settle() == 0  # nothing left unfinished

    forbidden = await client.get("/api/v1/runs", params={"user_id": "someone-else"}, headers=writer)
    assert forbidden.status_code == 403
    bad_cursor = await client.get("/api/v1/runs", params={"cursor": "forged"}, headers=writer)
    assert bad_cursor.status_code == 400
