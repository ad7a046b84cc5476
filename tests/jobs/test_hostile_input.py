"""The jobs routes attacked: hostile ids, filters and cursors, another user's job, a finished job,
batches out of bounds, and a command whose checkpoint Virtuoso does not have."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from tests.jobs.conftest import follow
from tests.support import MakeKey, auth
from virtuoso_api.infra.tasks import SqliteTaskQueue
from virtuoso_api.services import Services

COMMENT = {"command": "step-misc", "args": ["comment", "x"], "checkpoint_id": 1001}


@pytest.mark.parametrize(
    "job_id",
    [
        "x" * 10_000,
        "job_" + "a" * 5_000,
        "job_ünïcödé",
        "%F0%9F%92%A9",  # an emoji, percent-encoded
        "job_%E2%80%AEevil",  # a right-to-left override
        "job_%00",
        "job_..",
        "..%2F..%2Fetc%2Fpasswd",
        "job_0123456789ABCDEF",  # the right length, the wrong case
    ],
)
@pytest.mark.parametrize("action", ["GET", "cancel"])
async def test_a_hostile_job_id_is_a_short_404(
    client: httpx.AsyncClient, writer: dict[str, str], job_id: str, action: str
) -> None:
    path = f"/api/v1/jobs/{job_id}" + ("/cancel" if action == "cancel" else "")
    response = await client.request("GET" if action == "GET" else "POST", path, headers=writer)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "not_found"
    assert len(error["message"]) < 120
    assert error["message"].isascii()  # escaped: no control, bidi or other characters from the caller


async def test_bad_filters_are_422_naming_the_field(
    client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    for query, field, reason in (
        ("status=bogus", "status", "'queued', 'running', 'succeeded', 'failed' or 'cancelled'"),
        ("kind=bogus", "kind", "'command', 'batch' or 'suite'"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("limit=201", "limit", "less than or equal to 200"),
        ("limit=ten", "limit", "valid integer"),
        # At most what the service hands out, and what the 64 KiB request line has room for.
        (f"cursor={'a' * 2001}", "cursor", "at most 2000 characters"),
    ):
        response = await client.get(f"/api/v1/jobs?{query}", headers=writer)
        assert response.status_code == 422, query
        (detail,) = response.json()["error"]["details"]
        assert detail["field"] == field
        assert reason in detail["reason"]


def _cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


async def test_a_forged_cursor_is_400_or_a_position_among_the_callers_own_jobs(
    client: httpx.AsyncClient, writer: dict[str, str], make_key: MakeKey
) -> None:
    stranger = auth(await make_key(name="stranger"))
    theirs = (await client.post("/api/v1/commands/async", headers=stranger, json=COMMENT)).json()["job_id"]
    mine = (await client.post("/api/v1/commands/async", headers=writer, json=COMMENT)).json()["job_id"]
    for cursor in (
        "forged",
        "%00",
        _cursor({"o": "timestamp", "d": True, "v": "2026", "id": theirs}),  # another query's shape
        _cursor({"o": "created_at", "d": True, "v": {"$gt": ""}, "id": theirs}),  # not a value
        _cursor({"o": "created_at", "d": True, "v": "x", "id": theirs, "extra": 1}),
    ):
        response = await client.get("/api/v1/jobs", params={"cursor": cursor}, headers=writer)
        assert response.status_code == 400, cursor
        assert response.json()["error"]["details"][0]["field"] == "cursor"
    # Well formed, it is only a position: the caller still sees its own jobs and no one else's.
    after_all = _cursor({"o": "created_at", "d": True, "v": "9999-12-31T00:00:00.000000Z", "id": theirs})
    page = (await client.get("/api/v1/jobs", params={"cursor": after_all}, headers=writer)).json()
    assert [job["job_id"] for job in page["jobs"]] == [mine]


async def test_cancelling_another_users_job_or_a_finished_one(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str], make_key: MakeKey
) -> None:
    stranger = auth(await make_key(name="stranger"))
    response = await client.post("/api/v1/commands/async", headers=writer, json=COMMENT)
    location = response.headers["Location"]
    job = await follow(client, writer, location)
    refused = await client.post(f"{location}/cancel", headers=stranger)
    assert refused.status_code == 404  # as if it did not exist: ids of others' jobs are not confirmed
    assert refused.json()["error"]["message"] == f"job {job['job_id']} not found"
    finished = await client.post(f"{location}/cancel", headers=writer)
    assert finished.status_code == 409
    assert finished.json()["error"]["message"] == f"job {job['job_id']} has already succeeded"
    after = (await client.get(location, headers=writer)).json()
    assert (after["status"], after["cancel_requested"]) == ("succeeded", False)
    assert [s.value for s in await services.virtuoso.client.list_steps(1001)] == ["x"]


@pytest.mark.parametrize(("count", "reason"), [(0, "at least 1 item"), (10_001, "at most 200 items")])
async def test_a_batch_out_of_bounds_is_422_with_the_limit(
    client: httpx.AsyncClient, writer: dict[str, str], count: int, reason: str
) -> None:
    body = {"commands": [{"command": "step-misc", "args": ["comment", "x"]}] * count, "checkpoint_id": 1001}
    response = await client.post("/api/v1/commands/batch/async", headers=writer, json=body)
    assert response.status_code == 422
    (detail,) = response.json()["error"]["details"]
    assert detail["field"] == "commands"
    assert reason in detail["reason"]
    assert (await client.get("/api/v1/jobs", headers=writer)).json()["jobs"] == []


async def test_a_command_for_a_checkpoint_virtuoso_lacks_fails_once_with_its_404(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    body = {"command": "step-misc", "args": ["comment", "lost"], "checkpoint_id": 999_999}
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    assert response.status_code == 202  # the checkpoint is Virtuoso's to know, when the job runs
    job = await follow(client, writer, response.headers["Location"])
    assert (job["status"], job["attempts"]) == ("failed", 1)  # a refusal, not "not now": no retry
    assert (job["error"]["type"], job["error"]["status"]) == ("not_found", 404)
    assert job["error"]["message"] == "checkpoint 999999 was not found in Virtuoso"
    queue = services.tasks.queue
    assert isinstance(queue, SqliteTaskQueue)
    for _ in range(200):  # the dispatcher marks the task once the handler has returned
        task = await queue.get(job["job_id"])
        if task is not None and task.state != "leased":
            break
        await asyncio.sleep(0.02)
    assert task is not None
    assert (task.state, task.attempts) == ("done", 1)  # finished for good: never delivered again


async def test_a_cancel_racing_the_dispatcher_never_answers_cancelled_for_work_that_ran(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    async def submit_then_cancel(n: int) -> tuple[str, httpx.Response]:
        body = {"command": "step-misc", "args": ["comment", f"c{n}"], "checkpoint_id": 1001}
        submitted = await client.post("/api/v1/commands/async", headers=writer, json=body)
        location = submitted.headers["Location"]
        await asyncio.sleep(0.01 * (n % 10))  # cancels spread over the dispatcher's work
        return location, await client.post(f"{location}/cancel", headers=writer)

    raced = await asyncio.gather(*(submit_then_cancel(n) for n in range(30)))
    jobs = [await follow(client, writer, location) for location, _ in raced]
    made = [step.value for step in await services.virtuoso.client.list_steps(1001)]
    assert len(made) == len(set(made))
    for (_, answer), job in zip(raced, jobs, strict=True):
        value = job["request"]["args"][1]
        assert (job["status"] == "succeeded") is (value in made)  # the record tells what happened
        assert job["status"] in {"succeeded", "cancelled"}
        if answer.status_code == 409:  # it finished first
            assert answer.json()["error"]["message"] == f"job {job['job_id']} has already succeeded"
            continue
        assert answer.status_code == 200
        if answer.json()["status"] == "cancelled":  # answered cancelled: nothing ran, ever
            assert (job["status"], value in made) == ("cancelled", False)
