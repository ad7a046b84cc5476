"""Executions move on with the clock: QUEUED, RUNNING with progress, then COMPLETED or FAILED."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.sandbox.conftest import click, comment
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, QUEUED_SECONDS, STEP_SECONDS
from virtuoso_api.virtuoso.steps import Clue


async def _execute(api: httpx.AsyncClient) -> str:
    response = await api.post("/goals/201/snapshots/301/execute", json={"goalId": 201, "snapshotId": 301})
    assert response.status_code == 200
    execution_id: str = response.json()["item"]["id"]
    return execution_id


async def _get(api: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    item: dict[str, Any] = (await api.get(f"/executions/{execution_id}")).json()["item"]
    return item


async def test_the_seeded_goal_runs_to_completed(api: httpx.AsyncClient, clock: ManualClock) -> None:
    for index, text in enumerate(["one", "two"], start=1):
        await api.post("/teststeps", json=comment(text, index=index))
    execution_id = await _execute(api)

    queued = await _get(api, execution_id)
    assert queued["status"] == "QUEUED"
    assert queued["progress"]["completedSteps"] == 0
    assert queued["endTime"] is None

    clock.advance(timedelta(seconds=QUEUED_SECONDS + STEP_SECONDS))
    running = await _get(api, execution_id)
    assert running["status"] == "RUNNING"
    assert running["progress"] == {
        "completedSteps": 1,
        "totalSteps": 3,
        "completedJourneys": 0,
        "totalJourneys": 1,
        "currentJourney": "Demo journey",
        "successRate": 100.0,
        "failedSteps": 0,
        "percentComplete": 33.33,
    }
    assert [r["status"] for r in running["stepResults"]] == ["PASSED", "PENDING", "PENDING"]

    clock.advance(timedelta(seconds=2 * STEP_SECONDS))
    done = await _get(api, execution_id)
    assert done["status"] == "COMPLETED"
    assert done["duration"] == int(1000 * (QUEUED_SECONDS + 3 * STEP_SECONDS))
    assert done["endTime"] is not None
    assert done["progress"]["completedJourneys"] == 1
    assert done["progress"]["percentComplete"] == 100.0

    clock.advance(timedelta(hours=1))
    assert await _get(api, execution_id) == done


async def test_the_marker_in_a_clue_fails_the_step_and_skips_the_rest_of_the_journey(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    await api.post("/teststeps", json=click(Clue(clue=f"Buy {FAIL_MARKER}").to_json()))
    await api.post("/teststeps", json=comment("never runs", index=2))
    execution_id = await _execute(api)
    clock.advance(timedelta(minutes=1))
    done = await _get(api, execution_id)
    assert done["status"] == "FAILED"
    assert [r["status"] for r in done["stepResults"]] == ["PASSED", "FAILED", "SKIPPED"]
    assert FAIL_MARKER in done["stepResults"][1]["error"]
    assert done["progress"]["successRate"] == 50.0

    analysis = (await api.get(f"/executions/analysis/{execution_id}")).json()["item"]
    assert analysis["summary"] == {
        "totalSteps": 3,
        "passedSteps": 1,
        "failedSteps": 1,
        "skippedSteps": 1,
        "successRate": 50.0,
        "duration": int(1000 * (QUEUED_SECONDS + 2 * STEP_SECONDS)),
        "totalJourneys": 1,
        "passedJourneys": 0,
        "failedJourneys": 1,
    }
    assert [(f["stepId"], f["action"], f["journeyName"]) for f in analysis["failures"]] == [
        (done["stepResults"][1]["stepId"], "CLICK", "Demo journey")
    ]


async def test_the_marker_in_a_value_fails_too(api: httpx.AsyncClient, clock: ManualClock) -> None:
    await api.post("/teststeps", json=comment(f"please {FAIL_MARKER}"))
    execution_id = await _execute(api)
    clock.advance(timedelta(minutes=1))
    assert (await _get(api, execution_id))["status"] == "FAILED"


async def test_a_step_marked_skip_is_skipped_not_run(api: httpx.AsyncClient, clock: ManualClock) -> None:
    created = (await api.post("/teststeps", json=comment(f"would fail {FAIL_MARKER}"))).json()["item"]
    properties = {
        "id": created["id"],
        "canonicalId": created["canonicalId"],
        "action": "COMMENT",
        "value": created["value"],
        "skip": True,
    }
    assert (await api.put(f"/teststeps/{created['id']}/properties", json=properties)).status_code == 200
    execution_id = await _execute(api)
    clock.advance(timedelta(minutes=1))
    done = await _get(api, execution_id)
    assert done["status"] == "COMPLETED"
    assert [r["status"] for r in done["stepResults"]] == ["PASSED", "SKIPPED"]


async def test_steps_added_after_the_start_are_not_in_the_run(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    execution_id = await _execute(api)
    await api.post("/teststeps", json=comment(f"late {FAIL_MARKER}"))
    clock.advance(timedelta(minutes=1))
    done = await _get(api, execution_id)
    assert (done["status"], done["progress"]["totalSteps"]) == ("COMPLETED", 1)


async def test_an_analysis_before_the_end_is_partial(api: httpx.AsyncClient, clock: ManualClock) -> None:
    await api.post("/teststeps", json=comment("one"))
    execution_id = await _execute(api)
    clock.advance(timedelta(seconds=QUEUED_SECONDS + STEP_SECONDS))
    partial = (await api.get(f"/executions/analysis/{execution_id}", params={"includeAI": "true"})).json()[
        "item"
    ]
    assert (partial["summary"]["passedSteps"], partial["summary"]["totalSteps"]) == (1, 2)
    assert partial["meta"]["includeAI"] is True
