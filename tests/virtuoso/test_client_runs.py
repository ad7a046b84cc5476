"""The client's runs: captured real answers parse, runs start and are followed against the sandbox, and
an answer to a request that started a run never becomes an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.virtuoso._upstream import Answer, Upstream
from tests.virtuoso.conftest import BASE_URL, TOKEN, UpstreamClient
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.virtuoso import VirtuosoClient, VirtuosoNotFound, VirtuosoUnavailable
from virtuoso_api.virtuoso.executions import Execution
from virtuoso_api.virtuoso.models import Goal, Step
from virtuoso_api.virtuoso.steps import Clue, ParsedStep, StepAction, Target

EVIDENCE = Path(__file__).parent / "evidence"


def _evidence(name: str) -> Any:
    return json.loads((EVIDENCE / name).read_text())


def _comment(text: str) -> ParsedStep:
    return ParsedStep(action=StepAction.COMMENT, value=text)


def test_the_captured_real_status_answer_parses_into_the_model() -> None:
    answer = _evidence("executions_88715_status.json")
    execution = Execution.read(answer["item"])
    assert (execution.id, execution.goal_id, execution.snapshot_id, execution.environment_id) == (
        88715,
        8534,
        28733,
        2418,
    )
    assert (execution.status, execution.outcome, execution.progress) == ("FINISHED", "PASS", 1.0)
    assert execution.finished
    assert not execution.tests_failed
    assert execution.start_date == datetime(2024, 7, 16, 10, 29, 12, 277000, tzinfo=UTC)
    assert execution.end_date is not None
    assert execution.start_date is not None
    assert (execution.end_date - execution.start_date) == timedelta(milliseconds=execution.duration or 0)
    assert execution.journey_statistics.count_per_outcome["PASS"] == 1
    assert execution.journey_statistics.total_count == 1
    assert (execution.total_test_executions, execution.successful_test_executions) == (1, 1)
    assert execution.meta.test_suite_ids == [527218]
    assert execution.meta.execution_request["environmentId"] == 2418
    # Unknown fields are kept, not dropped: the raw answer and the model's extras both have them.
    assert execution.meta.model_extra == {"valid": False}
    assert execution.raw == answer["item"]


@pytest.mark.parametrize(
    "answer",
    [
        {"id": "77", "status": "SOMETHING_NEW", "progress": {"percentComplete": 50}},
        {"id": 77, "submitDate": "not a date", "journeyStatistics": [], "tags": "x", "meta": 3},
        {"id": 77, "duration": 1.5, "outcome": 7, "startDate": 10**20},
    ],
)
def test_unexpected_values_read_as_missing_and_unknown_statuses_are_kept(answer: dict[str, Any]) -> None:
    execution = Execution.read(answer)
    assert execution.id == 77
    assert not execution.finished
    assert execution.raw == answer


def test_the_captured_read_back_step_parses_with_selectors_of_every_type() -> None:
    step = Step.model_validate(_evidence("testsuite_527211_step.json"))
    assert [selector.type for selector in step.selectors] == ["XPATH", "ID", "CSS_SELECTOR", "GUESS"]
    assert step.target is not None
    assert step.target["kind"] == "INPUT"
    assert (step.meta["kind"], step.optional, step.ignore_outcome, step.skip) == (
        "WRITE",
        False,
        False,
        False,
    )


async def test_a_read_back_step_with_recorded_selectors_can_be_updated(
    client: VirtuosoClient, sandbox_app: FastAPI
) -> None:
    # A step as Virtuoso records one (several selector types); our client only ever writes GUESS.
    recorded = _evidence("testsuite_527211_step.json")["element"]["target"]
    body = {
        "checkpointId": SEED.checkpoint_id,
        "stepIndex": 1,
        "parsedStep": {"action": "WRITE", "variable": "username", "target": recorded, "extra": 1},
    }
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as raw:
        response = await raw.post("/teststeps", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    read = await client.get_step(response.json()["item"]["id"])
    assert [s.type for s in read.selectors] == ["XPATH", "ID", "CSS_SELECTOR", "GUESS"]
    assert read.meta["kind"] == "WRITE"

    updated = await client.update_step(read, skip=True, ignore_outcome=True)
    again = await client.get_step(read.id)
    assert updated == again
    assert (again.skip, again.ignore_outcome, again.optional) == (True, True, False)
    assert again.target == read.target  # nothing Virtuoso learned about the element was lost

    retargeted = await client.update_step(
        again, parsed_step=ParsedStep(action=StepAction.CLICK, target=Target.guess(Clue(clue="Go")))
    )
    assert [s.type for s in retargeted.selectors] == ["GUESS"]
    assert (retargeted.action, retargeted.skip) == ("CLICK", True)


async def _goal_with_two_journeys(client: VirtuosoClient, *, fail_in_first: bool) -> Goal:
    """Goal (its first journey has only navigation) + journey A (3 steps) + journey B (navigation)."""
    project = await client.create_project("Runs")
    goal = await client.create_goal(project.id, "Runs", "https://run.example")
    assert goal.snapshot_id is not None
    first = await client.create_journey(goal.id, goal.snapshot_id, "A")
    checkpoint = await client.add_checkpoint(first, "A1")
    await client.append_step(checkpoint.id, _comment("fine"))
    clue = f"Pay {FAIL_MARKER}" if fail_in_first else "Pay"
    await client.append_step(
        checkpoint.id, ParsedStep(action=StepAction.CLICK, target=Target.guess(Clue(clue=clue)))
    )
    await client.append_step(checkpoint.id, _comment("after"))
    second = await client.create_journey(goal.id, goal.snapshot_id, "B")
    await client.add_checkpoint(second, "B1")
    return goal


async def test_a_goal_run_goes_queued_running_finished_pass(
    client: VirtuosoClient, clock: ManualClock
) -> None:
    goal = await _goal_with_two_journeys(client, fail_in_first=False)
    started = await client.execute_goal(goal.id)
    assert (started.status, started.goal_id, started.journey_statistics.total_count) == ("QUEUED", goal.id, 3)
    assert started.id is not None

    clock.advance(timedelta(seconds=2))
    running = await client.get_execution_status(started.id)
    assert running.status == "RUNNING"
    assert not running.finished
    assert running.progress is not None
    assert 0 < running.progress < 1

    clock.advance(timedelta(seconds=60))
    done = await client.get_execution_status(started.id)
    assert (done.status, done.outcome, done.progress) == ("FINISHED", "PASS", 1.0)
    assert done.journey_statistics.count_per_outcome["PASS"] == 3

    report = await client.get_execution_report(started.id)
    assert [journey.label for journey in report.journeys] == ["Journey 1", "A", "B"]
    assert {step.outcome for journey in report.journeys for step in journey.steps} == {"PASS"}


async def test_a_failing_step_finishes_with_outcome_fail(client: VirtuosoClient, clock: ManualClock) -> None:
    goal = await _goal_with_two_journeys(client, fail_in_first=True)
    assert goal.snapshot_id is not None
    journeys = await client.snapshot_journeys(goal.id, goal.snapshot_id)
    chosen = [journey.id for journey in journeys if journey.title == "A"]
    started = await client.execute_goal_snapshot(goal.id, goal.snapshot_id, journey_ids=chosen, tags=["ci"])
    assert started.id is not None
    assert started.tags == ["ci"]
    clock.advance(timedelta(seconds=60))
    done = await client.get_execution_status(started.id)
    assert (done.status, done.outcome) == ("FINISHED", "FAIL")
    assert done.tests_failed
    (journey,) = (await client.get_execution_report(started.id)).journeys
    assert [step.outcome for step in journey.steps] == ["PASS", "PASS", "FAIL", "NOT_REACHED"]
    assert journey.derived_outcome == "FAIL"


async def test_a_plan_answers_one_job_per_run(client: VirtuosoClient, clock: ManualClock) -> None:
    plan = await client.execute_plan(SEED.plan_id, environment_id=5)
    (job_id,) = plan.job_ids
    assert plan.job(job_id).goal_id == SEED.goal_id
    clock.advance(timedelta(seconds=60))
    assert (await client.get_execution_status(job_id)).outcome == "PASS"
    assert plan.id is not None
    assert (await client.get_plan_execution_status(plan.id)).status == "FINISHED"


async def test_unknown_ids_are_not_found(client: VirtuosoClient) -> None:
    with pytest.raises(VirtuosoNotFound, match="goal 999 was not found"):
        await client.execute_goal(999)
    with pytest.raises(VirtuosoNotFound, match="snapshot 999 of goal 201 was not found"):
        await client.execute_goal_snapshot(SEED.goal_id, 999, journey_ids=[])
    with pytest.raises(VirtuosoNotFound, match="execution 12345 was not found"):
        await client.get_execution_status(12345)
    with pytest.raises(VirtuosoNotFound, match="plan 9 was not found"):
        await client.execute_plan(9)


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, raw=b"<html>accepted</html>"),
        Answer(200, {"id": 42, "message": "Execution started"}),
        Answer(200, {"success": True, "item": "started"}),
        Answer(201, [1, 2, 3]),
    ],
)
async def test_a_2xx_answer_to_a_start_is_a_started_run_whatever_it_looks_like(
    upstream_client: UpstreamClient, answer: Answer
) -> None:
    upstream = Upstream(answer)
    execution = await upstream_client(upstream).execute_goal(1)
    assert execution.id in (42, None)
    assert len(upstream.requests) == 1
    assert upstream.requests[0].path == "/api/goals/1/execute"
    assert upstream.requests[0].query == "envelope=false"
    assert upstream.requests[0].json() == {}


async def test_a_start_is_never_sent_twice(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(503, {"success": False, "error": "busy"}), Answer(200, {"id": 1}))
    with pytest.raises(VirtuosoUnavailable):
        await upstream_client(upstream).execute_plan(3)
    assert len(upstream.requests) == 1


async def test_the_requests_are_spotqas(upstream_client: UpstreamClient) -> None:
    upstream = Upstream(Answer(200, {"id": 5, "jobs": {"6": {"id": 6}, "7": {"id": 7}}}))
    client = upstream_client(upstream)
    plan = await client.execute_plan(3, environment_id=2418)
    assert plan.job_ids == [6, 7]
    await client.execute_goal_snapshot(8534, 28733, journey_ids=[527218], tags=["Automated"])
    await client.execute_journey(527218)
    await client.get_execution_status(6)
    await client.get_execution_report(6)
    seen = [(r.method, r.path, r.query, r.body and r.json()) for r in upstream.requests]
    assert seen == [
        ("POST", "/api/plans/executions/3/execute", "envelope=false", {"environmentId": 2418}),
        (
            "POST",
            "/api/goals/8534/snapshots/28733/execute",
            "envelope=false",
            {"tags": ["Automated"], "suiteIds": [527218]},
        ),
        ("POST", "/api/testsuites/527218/execute", "", {}),
        ("GET", "/api/executions/6/status", "envelope=false", b""),
        ("GET", "/api/testsuites/execution", "jobId=6&envelope=false", b""),
    ]
    assert {r.headers["x-virtuoso-client-name"] for r in upstream.requests} == {"nightly"}
