"""What a run publishes: ``run.started`` when Virtuoso starts it and ``run.finished`` (with the outcome)
exactly once, however many waiters follow it, whether the poll loop, a status read or the periodic
settling of unwatched runs sees the end, or all of them; owned by who started it and correlated to
the request (or the job) that did."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from tests.jobs.conftest import follow
from tests.runs.conftest import ServedSandbox, add_step, waited
from tests.support import published
from virtuoso_api.events import SCHEMAS, EventType
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.runs.models import COLLECTION
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.services import Services


async def _start(client: httpx.AsyncClient, writer: dict[str, str], request_id: str, **body: Any) -> int:
    response = await client.post("/api/v1/runs", headers={**writer, "X-Request-ID": request_id}, json=body)
    assert response.status_code == 202, response.text
    execution_id: int = response.json()["execution_ids"][0]
    return execution_id


def checked(event: dict[str, Any]) -> dict[str, Any]:
    SCHEMAS[EventType(event["type"])][0].model_validate(event["data"])
    return event


async def test_many_waiters_and_every_other_path_publish_one_run_finished(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox, services: Services
) -> None:
    await add_step(sandbox, "all good")
    execution_id = await _start(client, writer, "req-run-1", goal_id=SEED.goal_id)
    views = await asyncio.gather(*(waited(client, writer, execution_id) for _ in range(12)))
    assert {view["verdict"] for view in views} == {"passed"}
    # Then every other way of seeing the end: a status read, the periodic settling.
    assert (await client.get(f"/api/v1/runs/{execution_id}", headers=writer)).status_code == 200
    await services.runs.settle()

    started, finished = [checked(e) for e in await published(services, "run.started", "run.finished")]
    for event in (started, finished):
        assert (event["owner"], event["correlationid"]) == ("ci", "req-run-1")
        assert event["subject"] == f"run/{execution_id}"
    url = f"https://app.virtuoso.qa/#/project/{SEED.project_id}/execution/{execution_id}"
    assert started["data"] == {
        "run_id": str(execution_id),
        "execution_id": str(execution_id),
        "kind": "goal",
        "goal_id": SEED.goal_id,
        "journey_ids": [],
        "status": started["data"]["status"],
        "url": url,
    }
    assert finished["data"] == {
        "run_id": str(execution_id),
        "execution_id": str(execution_id),
        "outcome": "passed",
        "passed": 1,
        "failed": 0,
        "duration_ms": views[0]["duration_ms"],
        "url": url,
        "status": "FINISHED",
        "virtuoso_outcome": "PASS",
    }


async def test_runs_nobody_waited_for_are_announced_by_the_settling_once(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    clock: ManualClock,
) -> None:
    await add_step(sandbox, f"pay {FAIL_MARKER}")
    failing = await _start(client, writer, "req-fail", goal_id=SEED.goal_id)
    cancelled = await _start(client, writer, "req-cancel", journey_id=SEED.journey_id)
    assert (await sandbox.control("POST", f"/executions/{cancelled}/cancel")).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert await services.runs.settle() == 2  # what the periodic job does every minute
    assert await services.runs.settle() == 0
    finished = {
        e["data"]["execution_id"]: (e["data"]["outcome"], e["correlationid"])
        for e in map(checked, await published(services, "run.finished"))
    }
    assert finished == {str(failing): ("failed", "req-fail"), str(cancelled): ("cancelled", "req-cancel")}


async def test_the_settling_and_a_waiter_seeing_one_end_together_publish_it_once(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    clock: ManualClock,
) -> None:
    execution_id = await _start(client, writer, "req-race", goal_id=SEED.goal_id)
    clock.advance(timedelta(minutes=1))  # it has ended by now; both paths are about to see it
    view, _ = await asyncio.gather(waited(client, writer, execution_id), services.runs.settle())
    assert view["finished"]
    finished = await published(services, "run.finished")
    assert [e["data"]["execution_id"] for e in finished] == [str(execution_id)]


async def test_an_end_published_but_not_recorded_is_published_again_as_the_same_event(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    clock: ManualClock,
) -> None:
    """A process that died between publishing the end and recording it: the record still says the run
    is going, so the settling reads it again and publishes again; the log keeps one event."""
    execution_id = await _start(client, writer, "req-crash", goal_id=SEED.goal_id)
    await waited(client, writer, execution_id)
    await services.documents.patch(COLLECTION, str(execution_id), {"finished": False, "verdict": "running"})
    clock.advance(timedelta(minutes=1))
    assert await services.runs.settle() == 1
    assert len(await published(services, "run.finished")) == 1
    record = await services.runs.record(execution_id)
    assert record is not None
    assert record.finished


async def test_a_run_a_job_started_is_correlated_to_the_job(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox, services: Services
) -> None:
    body = {"command": "execute-goal", "args": [str(SEED.goal_id)]}
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    job = await follow(client, writer, response.headers["Location"])
    assert job["status"] == "succeeded", job
    (started,) = await published(services, "run.started")
    assert (started["correlationid"], started["owner"]) == (job["job_id"], "ci")
