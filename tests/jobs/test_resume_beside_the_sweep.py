"""A job resuming a command whose process died, while the start-up sweep settles the same in-flight
record: the step is made exactly once, and history, the job and the store all say so.

Both settlers run for real on one event loop. The job's attempt starts a growing number of loop
passes after the sweep, so across the rounds the sweep's write (the history entry and the record's
removal, in one batch) lands at every point of the attempt: between its look-ups (a step made
before the crash was sent again: the duplicate the kill -9 test found once in ~20 runs), and while
it sends the command again (a slower sweep's "interrupted" overwrote the entry of the step made)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.jobs.conftest import CHECKPOINT
from tests.processes import dead_pid
from virtuoso_api.commands.inflight import COLLECTION as IN_FLIGHT
from virtuoso_api.commands.inflight import RequestIds
from virtuoso_api.history.models import Source
from virtuoso_api.infra.tasks import Delivery
from virtuoso_api.services import Services
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, StepCreate

ROUNDS = 60


async def _job_left_by_a_dead_process(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str], text: str, *, reached: bool
) -> tuple[str, int | None]:
    """A queued job (due in an hour, so only this test runs it) whose first attempt wrote its
    in-flight record under the job's fixed ids and died; ``reached``: its step reached Virtuoso,
    which made it. Returns the job id and the step's id."""
    body = {"command": "step-misc", "args": ["comment", text], "checkpoint_id": CHECKPOINT}
    body["delay_seconds"] = 3600
    response = await client.post("/api/v1/commands/async", headers=writer, json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]

    step = ParsedStep(action=StepAction.COMMENT, value=text)
    count = len(await services.virtuoso.client.list_steps(CHECKPOINT))
    made = None
    if reached:
        made = await services.virtuoso.client.create_step(
            StepCreate(checkpoint_id=CHECKPOINT, step_index=count + 1, parsed_step=step)
        )
    job = await services.jobs.get(None, job_id)
    request = services.commands._in_flight.new(
        RequestIds(record_id=f"step_{job_id}_0", entry_id=f"h_{job_id}_0"),
        user_id=job.owner,
        key_id=job.key_id,
        session_id=None,
        checkpoint_id=CHECKPOINT,
        position=count + 1,
        command="step-misc",
        args=["comment", text],
        source=Source.TASK,
        step=step.to_payload(),
    )
    data = request.as_data(at=services.clock.now())
    data["instance"], data["pid"] = "a-process-that-died", dead_pid()
    await services.documents.put(IN_FLIGHT, request.record_id, data)
    return job_id, None if made is None else made.id


async def _resume(services: Services, job_id: str, after_passes: int) -> None:
    for _ in range(after_passes):
        await asyncio.sleep(0)
    delivery = Delivery(name=job_id, kind="command", payload={"job_id": job_id}, attempt=2, max_attempts=3)
    await services.jobs.handle_task(delivery)


@pytest.mark.parametrize("reached", [True, False], ids=["step-made-before-the-crash", "step-never-sent"])
async def test_a_resumed_job_and_the_sweep_leave_one_step_at_every_interleaving(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str], reached: bool
) -> None:
    for passes in range(ROUNDS):
        text = f"{'made' if reached else 'never-sent'}-{passes}"
        job_id, step_id = await _job_left_by_a_dead_process(client, services, writer, text, reached=reached)

        await asyncio.gather(services.commands.settle_in_flight(), _resume(services, job_id, passes))

        made = await _assert_one_step(services, job_id, text, passes)
        if reached:  # the step made before the crash is the job's, not one sent again
            assert made == step_id


async def _assert_one_step(services: Services, job_id: str, text: str, passes: int) -> int:
    """One step of ``text`` (its id is returned); the job, its history entry and nothing left in
    flight all say so."""
    steps = [step for step in await services.virtuoso.client.list_steps(CHECKPOINT) if step.value == text]
    assert len(steps) == 1, f"{len(steps)} steps when resumed {passes} passes after the sweep began"
    job = await services.jobs.get(None, job_id)
    assert job.status.value == "succeeded", job.error
    assert (job.result or {})["step_id"] == steps[0].id
    entry = await services.history.get(f"h_{job_id}_0")
    assert entry is not None
    assert entry.success, f"history says {entry.error} when resumed {passes} passes in"
    assert (entry.result or {})["step_id"] == steps[0].id
    assert await services.documents.get(IN_FLIGHT, f"step_{job_id}_0") is None
    return steps[0].id
