"""The sweep that fails a job whose last attempt died, over the real store and the real local queue.

A process killed mid-attempt (``kill -9``) leaves exactly this behind: its lease on the task and the
job marked ``running`` with that attempt counted (what ``JobService.handle_task`` writes first), and
nothing after. The queue delivers the task again when the lease runs out, while attempts are left;
after the last one nothing will, and the sweep is what tells the job's owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.config import Settings
from virtuoso_api.infra.tasks import SqliteTaskQueue
from virtuoso_api.jobs.models import COLLECTION, AsyncCommandRequest, Job, JobStatus
from virtuoso_api.jobs.service import ABANDONED_AFTER
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

AUTHOR = Principal(key_id="", user_id="author", name="author", scopes=frozenset({Scope.READ, Scope.WRITE}))
LEASE = timedelta(seconds=30)


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    """The service without its background work: this test plays the dispatchers, dead and alive."""
    async with Services.running(
        settings.model_copy(update={"tasks_max_attempts": 3}), clock=clock
    ) as running:
        yield running


async def _submitted(services: Services, value: str) -> Job:
    request = AsyncCommandRequest(
        command="step-misc", args=["comment", value], checkpoint_id=SEED.checkpoint_id
    )
    accepted, _ = await services.jobs.submit_command(AUTHOR, request)
    return await services.jobs.get(None, accepted.job_id)


async def _attempt_dies(services: Services, clock: ManualClock, job_id: str) -> int:
    """A process leases the job's task, marks the job running with the attempt counted, and is
    killed; its lease then runs out. Returns the attempt it made."""
    queue = services.tasks.queue
    assert isinstance(queue, SqliteTaskQueue)
    leased = await queue.claim("killed-process", LEASE.total_seconds())
    assert leased is not None
    assert leased.name == job_id
    changes = {"status": "running", "attempts": leased.attempt, "updated_at": format_timestamp(clock.now())}
    await services.documents.patch(COLLECTION, job_id, changes)
    clock.advance(LEASE + timedelta(seconds=1))
    return leased.attempt


async def test_a_job_whose_last_attempt_died_is_failed_with_a_clear_error(
    services: Services, clock: ManualClock
) -> None:
    job = await _submitted(services, "never")
    assert [await _attempt_dies(services, clock, job.job_id) for _ in range(3)] == [1, 2, 3]
    queue = services.tasks.queue
    assert isinstance(queue, SqliteTaskQueue)
    assert await queue.claim("a-live-process", 30) is None  # the queue has given up on it
    assert (await services.jobs.get(None, job.job_id)).status is JobStatus.RUNNING
    assert await services.jobs.fail_abandoned() == 0  # it showed life too recently to be called dead
    clock.advance(ABANDONED_AFTER)
    assert await services.jobs.fail_abandoned() == 1
    failed = await services.jobs.get(None, job.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == {"type": "abandoned", "message": "attempt 3 of 3 stopped without finishing"}
    assert failed.finished_at == clock.now()
    assert await services.jobs.fail_abandoned() == 0  # failed once
    assert await services.virtuoso.client.list_steps(SEED.checkpoint_id) == []


async def test_a_job_with_attempts_left_is_delivered_again_not_failed(
    services: Services, clock: ManualClock
) -> None:
    job = await _submitted(services, "second time lucky")
    assert await _attempt_dies(services, clock, job.job_id) == 1
    clock.advance(ABANDONED_AFTER)
    assert await services.jobs.fail_abandoned() == 0
    assert (await services.jobs.get(None, job.job_id)).status is JobStatus.RUNNING
    async with services.tasks.dispatching(services.jobs.handle_task):  # a live process's dispatcher
        for _ in range(600):  # a bound on waiting, never a measurement
            done = await services.jobs.get(None, job.job_id)
            if done.status.finished:
                break
            await asyncio.sleep(0.05)
    assert (done.status, done.attempts, done.error) == (JobStatus.SUCCEEDED, 2, None)
    steps = await services.virtuoso.client.list_steps(SEED.checkpoint_id)
    assert [step.value for step in steps] == ["second time lucky"]


async def test_the_sweep_runs_in_the_background(services: Services) -> None:
    sweeps = [job for job in services.jobs.needs().periodic if job.run == services.jobs.fail_abandoned]
    assert [(job.name, job.every_seconds) for job in sweeps] == [("fail abandoned jobs", 60.0)]
