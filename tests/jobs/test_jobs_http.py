"""Async commands and batches over HTTP, run by the app's dispatcher on the local queue."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.jobs.conftest import CHECKPOINT, follow, step_values
from virtuoso_api.infra.tasks import NewTask
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

NAVIGATE = {"command": "step-navigate", "args": ["to", "https://example.com"]}


def step(value: str) -> dict[str, Any]:
    return {"command": "step-misc", "args": ["comment", value]}


async def test_an_async_command_is_accepted_then_run_and_followed(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/commands/async", headers=writer, json={**NAVIGATE, "checkpoint_id": "cp_1001"}
    )
    assert response.status_code == 202
    accepted = response.json()
    assert response.headers["Location"] == f"/api/v1/jobs/{accepted['job_id']}" == accepted["location"]
    assert accepted["task_name"] == accepted["job_id"]
    job = await follow(client, writer, response.headers["Location"])
    assert job["status"] == "succeeded"
    assert job["progress"] == {"done": 1, "total": 1}
    assert job["attempts"] == 1
    assert job["result"]["position"] == 1
    steps = await services.virtuoso.client.list_steps(CHECKPOINT)
    assert [(s.id, s.action) for s in steps] == [(job["result"]["step_id"], "NAVIGATE")]
    history = (await client.get("/api/v1/commands/history", headers=writer)).json()["entries"]
    assert [(e["source"], e["result"]["step_id"]) for e in history] == [("task", steps[0].id)]


async def test_a_bad_command_is_refused_before_any_job_exists(
    client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    body = {"command": "step-wait", "args": ["time", "90000"], "checkpoint_id": 1001}
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "args[1]"
    batch = {"commands": [NAVIGATE, {"command": "step-nope", "args": []}], "checkpoint_id": 1001}
    response = await client.post("/api/v1/commands/batch/async", headers=writer, json=batch)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"].startswith("commands[1].")
    assert (await client.get("/api/v1/jobs", headers=writer)).json()["jobs"] == []


async def test_the_same_idempotency_key_is_the_same_job_and_one_step(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    headers = {**writer, "Idempotency-Key": "nav-1"}
    body = {**NAVIGATE, "checkpoint_id": 1001}
    first = await client.post("/api/v1/commands/async", headers=headers, json=body)
    second = await client.post("/api/v1/commands/async", headers=headers, json=body)
    assert first.status_code == second.status_code == 202
    assert first.json()["job_id"] == second.json()["job_id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    await follow(client, writer, first.headers["Location"])
    assert len(await step_values(services)) == 1
    other = await client.post(
        "/api/v1/commands/async", headers=headers, json={**body, "args": ["to", "https://b.io"]}
    )
    assert other.status_code == 422  # the same key with another body


async def test_a_batch_in_order_stops_at_the_first_failure_unless_told_to_go_on(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    commands = [
        step("one"),
        {"command": "step-navigate", "args": ["to", "https://x.io"], "checkpoint_id": 999},
        step("three"),
    ]
    stopped = await client.post(
        "/api/v1/commands/batch/async", headers=writer, json={"commands": commands, "checkpoint_id": 1001}
    )
    job = await follow(client, writer, stopped.headers["Location"])
    assert job["status"] == "failed"
    assert [(i["status"], i["status_code"]) for i in job["result"]["results"]] == [
        ("succeeded", 201),
        ("failed", 404),
        ("skipped", None),
    ]
    assert job["error"]["index"] == 1
    assert await step_values(services) == ["one"]
    body = {"commands": commands, "checkpoint_id": 1001, "continue_on_error": True}
    went_on = await client.post("/api/v1/commands/batch/async", headers=writer, json=body)
    job = await follow(client, writer, went_on.headers["Location"])
    assert [i["status"] for i in job["result"]["results"]] == ["succeeded", "failed", "succeeded"]
    assert job["status"] == "failed"
    assert await step_values(services) == ["one", "one", "three"]


async def test_a_parallel_batch_keeps_each_checkpoints_order_and_positions(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    state = services.virtuoso.sandbox_app.state.sandbox
    other = state.add_checkpoint(state.goal(SEED.goal_id), "second").id
    commands = []
    for n in range(6):
        commands.append({**step(f"a{n}"), "checkpoint_id": CHECKPOINT})
        commands.append({**step(f"b{n}"), "checkpoint_id": other})
    commands.append({"command": "list-projects", "args": []})
    response = await client.post(
        "/api/v1/commands/batch/async", headers=writer, json={"commands": commands, "parallel": True}
    )
    job = await follow(client, writer, response.headers["Location"])
    assert job["status"] == "succeeded", job
    assert await step_values(services) == [f"a{n}" for n in range(6)]
    assert await step_values(services, other) == [f"b{n}" for n in range(6)]
    results = job["result"]["results"]
    assert [r["outcome"]["position"] for r in results[:-1:2]] == [1, 2, 3, 4, 5, 6]
    assert results[-1]["status_code"] == 200


async def test_a_cancelled_queued_job_never_runs(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    body = {**NAVIGATE, "checkpoint_id": 1001, "delay_seconds": 60}  # the test clock never gets there
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    job = (await client.post(f"{response.headers['Location']}/cancel", headers=writer)).json()
    assert job["status"] == "cancelled"
    again = await client.post(f"{response.headers['Location']}/cancel", headers=writer)
    assert again.status_code == 409
    assert await step_values(services) == []


async def test_a_cancelled_running_batch_stops_before_its_next_command(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    commands = [step(f"s{n}") for n in range(200)]
    response = await client.post(
        "/api/v1/commands/batch/async", headers=writer, json={"commands": commands, "checkpoint_id": 1001}
    )
    location = response.headers["Location"]
    for _ in range(2000):
        job = (await client.get(location, headers=writer)).json()
        if job["progress"]["done"] >= 3:
            break
        await asyncio.sleep(0.005)
    assert (await client.post(f"{location}/cancel", headers=writer)).status_code == 200
    job = await follow(client, writer, location)
    assert job["status"] == "cancelled"
    results = job["result"]["results"]
    made = [r for r in results if r["status"] == "succeeded"]
    assert 3 <= len(made) < 200
    assert all(r["status"] == "skipped" for r in results[len(made) :])
    assert await step_values(services) == [f"s{n}" for n in range(len(made))]


async def test_the_same_task_enqueued_twice_is_one_task_and_its_steps_are_made_once(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    body = {"commands": [step("x"), step("y")], "checkpoint_id": 1001}
    response = await client.post("/api/v1/commands/batch/async", headers=writer, json=body)
    job = await follow(client, writer, response.headers["Location"])
    task = NewTask(name=job["job_id"], kind="batch", payload={"job_id": job["job_id"]})
    assert await services.tasks.enqueue(task) is False
    assert await step_values(services) == ["x", "y"]


async def test_a_caller_sees_only_its_jobs_and_an_admin_sees_all(
    client: httpx.AsyncClient, writer: dict[str, str], admin: dict[str, str], make_key: Any
) -> None:
    from tests.support import auth

    stranger = auth(await make_key(name="stranger"))
    response = await client.post(
        "/api/v1/commands/async", headers=writer, json={**NAVIGATE, "checkpoint_id": 1001}
    )
    location = response.headers["Location"]
    await follow(client, writer, location)
    assert (await client.get(location, headers=stranger)).status_code == 404
    assert (await client.post(f"{location}/cancel", headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/jobs", headers=stranger)).json()["jobs"] == []
    assert (await client.get("/api/v1/jobs?user_id=author", headers=stranger)).status_code == 422
    everyone = (await client.get("/api/v1/jobs?status=succeeded&kind=command", headers=admin)).json()
    assert [j["owner"] for j in everyone["jobs"]] == ["author"]
    assert (await client.get("/api/v1/jobs?cursor=forged", headers=admin)).status_code == 400
    assert (await client.get("/api/v1/jobs?status=done", headers=admin)).status_code == 422


async def test_stats_and_readiness_report_the_queue(
    client: httpx.AsyncClient, writer: dict[str, str], admin: dict[str, str]
) -> None:
    body = {**NAVIGATE, "checkpoint_id": 1001, "delay_seconds": 60, "priority": "high"}
    await client.post("/api/v1/commands/async", headers=writer, json=body)
    assert (await client.get("/api/v1/jobs/stats", headers=writer)).status_code == 403
    stats = (await client.get("/api/v1/jobs/stats", headers=admin)).json()
    assert stats["backend"] == "local"
    assert stats["queues"] == [{"queue": "virtuoso-command-high", "waiting": 1, "running": 0, "failed": 0}]
    assert stats["jobs"]["queued"] == 1
    assert stats["pending_enqueues"] == 0
    ready = (await client.get("/health/ready")).json()
    assert ready["backends"]["tasks"] == {**ready["backends"]["tasks"], "backend": "local", "status": "ok"}
    assert (await client.post("/internal/tasks/command", json={"job_id": "x"})).status_code == 404
