"""A job whose work keeps failing "not now" is retried with backoff, then failed with its last error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from tests.jobs.conftest import follow
from tests.processes import free_port
from tests.support import MakeKey, auth
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.infra.tasks import SqliteTaskQueue
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Virtuoso at a port nobody listens on: every command fails with "virtuoso is unavailable"."""
    return settings.model_copy(
        update={
            "virtuoso_sandbox": False,
            "virtuoso_api_token": SecretStr("token"),
            "virtuoso_base_url": f"http://127.0.0.1:{free_port()}/api",
            "virtuoso_retry_attempts": 1,
            "tasks_max_attempts": 3,
            "tasks_min_backoff_seconds": 2.0,
            "tasks_max_backoff_seconds": 4.0,
        }
    )


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_poison_command_fails_its_job_after_the_configured_attempts(
    client: httpx.AsyncClient, services: Services, make_key: MakeKey, clock: ManualClock
) -> None:
    writer = auth(await make_key(name="author"))
    body = {"command": "step-navigate", "args": ["to", "https://example.com"], "checkpoint_id": 1001}
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    location = response.headers["Location"]
    # Nothing moves the clock: the first attempt fails and the task waits out its backoff.
    running = await follow(client, writer, location, until={"running"})
    while running["error"] is None:
        running = await follow(client, writer, location, until={"running"})
    assert running["error"]["type"] == "service_unavailable"
    job = await follow(client, writer, location, clock=clock)  # now time moves on, a backoff a round
    assert job["status"] == "failed"
    assert job["attempts"] == job["max_attempts"] == 3
    assert job["error"]["type"] == "service_unavailable"
    assert "virtuoso" in job["error"]["message"]
    queue = services.tasks.queue
    assert isinstance(queue, SqliteTaskQueue)
    # The job's record is written by the handler, the task's state by the dispatcher once the handler
    # returns: a reader can come between the two.
    for _ in range(100):
        task = await queue.get(job["job_id"])
        assert task is not None
        if task.state != "leased":
            break
        await asyncio.sleep(0.02)
    assert task is not None
    assert (task.state, task.attempts) == ("done", 3)  # the handler answered the last attempt itself
