"""What a job publishes: ``job.started`` once, then its end (``job.completed``, ``job.failed`` or
``job.cancelled``) once, each with the job's owner and its id as the correlation id, and what its
commands publish correlated to it too; a task delivered again publishes nothing new."""

from __future__ import annotations

from typing import Any

import httpx

from tests.jobs.conftest import follow
from tests.support import published, published_once_there
from virtuoso_api.events import SCHEMAS, EventType
from virtuoso_api.infra.tasks import Delivery
from virtuoso_api.jobs.events import MAX_RESULT_FIELD_BYTES
from virtuoso_api.services import Services

JOB_TYPES = ("job.started", "job.completed", "job.failed", "job.cancelled")


def comment(text: str) -> dict[str, Any]:
    return {"command": "step-misc", "args": ["comment", text], "checkpoint_id": 1001}


def checked(event: dict[str, Any]) -> dict[str, Any]:
    """The event, its data validated against its type's schema."""
    model, version = SCHEMAS[EventType(event["type"])]
    model.model_validate(event["data"])
    assert event["dataschema"].endswith(f":v{version}")
    return event


async def test_a_job_publishes_started_then_completed_once_correlated_to_the_job(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/commands/async", headers={**writer, "X-Request-ID": "req-7"}, json=comment("hi")
    )
    job = await follow(client, writer, response.headers["Location"])
    assert job["status"] == "succeeded"
    job_id = job["job_id"]

    started, completed = [checked(e) for e in await published_once_there(services, *JOB_TYPES, count=2)]
    assert (started["type"], completed["type"]) == ("job.started", "job.completed")
    for event in (started, completed):
        assert (event["owner"], event["correlationid"]) == ("author", job_id)
        assert event["subject"] == f"job/{job_id}"
    assert started["data"] == {"job_id": job_id, "kind": "command", "attempt": 1}
    assert completed["data"]["result"] == job["result"]
    assert "error" not in completed["data"]
    # The command the job ran is the job's work: its event carries the job's id, not the request's.
    (executed,) = await published(services, "command.executed")
    assert (executed["correlationid"], executed["data"]["source"]) == (job_id, "task")

    # The task delivered again (an ack lost after the job finished): the same end, published once.
    again = Delivery(name=job_id, kind="command", payload={"job_id": job_id}, attempt=2, max_attempts=3)
    await services.jobs.handle_task(again)
    assert [e["type"] for e in await published(services, *JOB_TYPES)] == ["job.started", "job.completed"]


async def test_a_failed_job_publishes_job_failed_with_its_error(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    body = {"command": "list-steps", "args": ["999999"]}  # no such checkpoint: Virtuoso's 404
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    job = await follow(client, writer, response.headers["Location"])
    assert job["status"] == "failed"
    events = [checked(e) for e in await published_once_there(services, *JOB_TYPES, count=2)]
    assert [e["type"] for e in events] == ["job.started", "job.failed"]
    assert events[1]["data"]["error"] == job["error"]
    assert events[1]["data"]["error"]["status"] == 404


async def test_a_job_cancelled_while_queued_publishes_job_cancelled_once(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    body = {**comment("later"), "delay_seconds": 60}  # the test clock never gets there
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    location = response.headers["Location"]
    assert (await client.post(f"{location}/cancel", headers=writer)).status_code == 200
    job_id = location.rsplit("/", 1)[-1]
    # Its task comes anyway (Cloud Tasks cannot be told): it finds the job cancelled and says nothing.
    delivery = Delivery(name=job_id, kind="command", payload={"job_id": job_id}, attempt=1, max_attempts=3)
    await services.jobs.handle_task(delivery)
    (cancelled,) = [checked(e) for e in await published(services, *JOB_TYPES)]
    assert cancelled["type"] == "job.cancelled"
    assert (cancelled["correlationid"], cancelled["data"]["job_id"]) == (job_id, job_id)


async def test_a_batch_job_announces_its_counts_and_leaves_long_results_to_the_job(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    commands = [{"command": "step-misc", "args": ["comment", f"note {n}"]} for n in range(40)]
    response = await client.post(
        "/api/v1/commands/batch/async", headers=writer, json={"commands": commands, "checkpoint_id": 1001}
    )
    job = await follow(client, writer, response.headers["Location"])
    assert job["status"] == "succeeded"
    assert len(job["result"]["results"]) == 40  # the job keeps every command's result...
    (completed,) = await published_once_there(services, "job.completed")
    # ...the event, only what fits: the counts, not the 40 results.
    assert completed["data"]["result"] == {"total": 40, "succeeded": 40, "failed": 0, "skipped": 0}
    assert len(str(job["result"]["results"])) > MAX_RESULT_FIELD_BYTES
