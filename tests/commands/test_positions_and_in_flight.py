"""Positions under parallel appends and edits made elsewhere; steps whose answer was lost, settled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from tests.commands.conftest import CHECKPOINT, run, stored_steps
from tests.processes import dead_pid
from virtuoso_api.commands.inflight import COLLECTION as IN_FLIGHT
from virtuoso_api.history.models import HistoryFilters, Source
from virtuoso_api.infra.documents import Query
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, StepCreate


async def test_parallel_appends_answer_the_positions_their_steps_have(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    answers = await asyncio.gather(
        *(run(client, writer, "step-misc", "comment", f"c{i}", checkpoint_id=CHECKPOINT) for i in range(50))
    )
    assert all(answer.status_code == 201 for answer in answers), [a.text for a in answers if a.is_error]
    stored = {step["id"]: step["step_index"] for step in await stored_steps(services)}
    assert sorted(stored.values()) == list(range(1, 51))
    for answer in answers:
        assert answer.json()["position"] == stored[answer.json()["step_id"]]
    history = await services.history.query(HistoryFilters(checkpoint_id=CHECKPOINT), limit=100)
    assert len(history.entries) == 50
    for entry in history.entries:
        assert entry.result is not None
        assert entry.result["position"] == stored[entry.result["step_id"]]


async def external_step(services: Services, index: int, text: str) -> None:
    """A step added by someone else (the Virtuoso UI, another instance), straight into the sandbox."""
    step = ParsedStep(action=StepAction.COMMENT, value=text)
    await services.virtuoso.client.create_step(
        StepCreate(checkpoint_id=CHECKPOINT, step_index=index, parsed_step=step)
    )


async def test_a_remembered_count_is_trusted_only_for_a_while(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str], clock: ManualClock
) -> None:
    await run(client, writer, "step-misc", "comment", "ours-1", checkpoint_id=CHECKPOINT)
    await external_step(services, 2, "theirs-1")
    inside = await run(client, writer, "step-misc", "comment", "ours-2", checkpoint_id=CHECKPOINT)
    # Within the window the remembered count is used: the step lands before theirs, and says so.
    assert inside.json()["position"] == 2
    assert [s["value"] for s in await stored_steps(services)] == ["ours-1", "ours-2", "theirs-1"]

    await external_step(services, 4, "theirs-2")
    clock.advance(timedelta(seconds=services.settings.step_position_cache_seconds + 1))
    after = await run(client, writer, "step-misc", "comment", "ours-3", checkpoint_id=CHECKPOINT)
    assert after.json()["position"] == 5  # counted again: appended after everything
    assert [s["value"] for s in await stored_steps(services)][-1] == "ours-3"


async def _abandoned_request(services: Services, *, text: str, position: int) -> str:
    """An in-flight record as a process killed after sending its step would have left it."""
    request = services.commands._in_flight.new(
        user_id="author",
        key_id=None,
        session_id=None,
        checkpoint_id=CHECKPOINT,
        position=position,
        command="step-misc",
        args=["comment", text],
        source=Source.HTTP,
        step=ParsedStep(action=StepAction.COMMENT, value=text).to_payload(),
    )
    data = request.as_data(at=services.clock.now())
    data["instance"], data["pid"] = "a-process-that-died", dead_pid()
    await services.documents.put(IN_FLIGHT, request.record_id, data)
    return request.entry_id


async def test_a_step_made_before_a_crash_is_recorded_once_when_settled(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    await run(client, writer, "step-misc", "comment", "before", checkpoint_id=CHECKPOINT)
    # The dead process's step reached Virtuoso; its answer (and history entry) never came back.
    await external_step(services, 2, "lost-answer")
    made = await _abandoned_request(services, text="lost-answer", position=2)
    never = await _abandoned_request(services, text="never-sent", position=3)

    assert await services.commands.settle_in_flight() == 2
    assert await services.commands.settle_in_flight() == 0  # settled once: nothing left

    history = await services.history.query(HistoryFilters(checkpoint_id=CHECKPOINT), limit=100)
    by_id = {entry.entry_id: entry for entry in history.entries}
    assert len(history.entries) == 3
    (lost,) = [s for s in await stored_steps(services) if s["value"] == "lost-answer"]
    assert by_id[made].success is True
    assert by_id[made].result == {
        "step_id": lost["id"],
        "checkpoint_id": CHECKPOINT,
        "position": 2,
        "action": "COMMENT",
        "reconciled": True,
    }
    assert by_id[never].success is False
    assert (by_id[never].error or {}).get("type") == "interrupted"
    assert (await services.documents.query(Query(IN_FLIGHT))).documents == []


async def test_a_request_of_this_live_process_is_left_alone(
    client: httpx.AsyncClient, services: Services, writer: dict[str, str]
) -> None:
    request = services.commands._in_flight.new(
        user_id="author",
        key_id=None,
        session_id=None,
        checkpoint_id=CHECKPOINT,
        position=1,
        command="step-misc",
        args=["comment", "in-flight"],
        source=Source.HTTP,
        step=ParsedStep(action=StepAction.COMMENT, value="in-flight").to_payload(),
    )
    await services.commands._in_flight.begin(request)
    assert await services.commands.settle_in_flight() == 0
    assert len((await services.documents.query(Query(IN_FLIGHT))).documents) == 1
