"""Runs move on with the clock through Virtuoso's lifecycle: QUEUED, RUNNING, then FINISHED with a
separate outcome (PASS or FAIL), or CANCELED and FAILED when a test control stops them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import click, comment, error_of
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, SEED, STEP_SECONDS
from virtuoso_api.virtuoso.steps import Clue

QUEUED = 2 * STEP_SECONDS


async def _execute(api: httpx.AsyncClient, path: str = "/goals/201/execute", body: Any = None) -> int:
    response = await api.post(path, params={"envelope": "false"}, json={} if body is None else body)
    assert response.status_code == 200, response.text
    execution_id: int = response.json()["id"]
    return execution_id


async def _status(api: httpx.AsyncClient, execution_id: int) -> dict[str, Any]:
    response = await api.get(f"/executions/{execution_id}/status", params={"envelope": "false"})
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()
    return item


async def test_a_goal_runs_queued_running_then_finished_with_outcome_pass(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    for index, text in enumerate(["one", "two"], start=1):
        await api.post("/teststeps", json=comment(text, index=index))
    submitted = clock.now()
    execution_id = await _execute(api)

    queued = await _status(api, execution_id)
    assert (queued["status"], queued["outcome"], queued["progress"]) == ("QUEUED", None, 0.0)
    assert queued["submitDate"] == int(submitted.timestamp() * 1000)
    assert (queued["startDate"], queued["endDate"], queued["duration"]) == (None, None, None)

    clock.advance(timedelta(seconds=QUEUED + STEP_SECONDS))
    running = await _status(api, execution_id)
    assert (running["status"], running["outcome"]) == ("RUNNING", None)
    assert running["progress"] == pytest.approx(1 / 3, abs=1e-3)
    assert running["journeyStatistics"]["countPerOutcome"]["RUNNING"] == 1

    clock.advance(timedelta(seconds=2 * STEP_SECONDS))
    done = await _status(api, execution_id)
    assert (done["status"], done["outcome"], done["progress"]) == ("FINISHED", "PASS", 1.0)
    assert done["duration"] == int(3 * STEP_SECONDS * 1000) == done["endDate"] - done["startDate"]
    assert done["journeyStatistics"] == {
        "countPerOutcome": {"NOT_REACHED": 0, "PASS": 1, "FAIL": 0, "ERROR": 0, "SKIP": 0, "RUNNING": 0},
        "outcome": "PASS",
        "progress": 1.0,
        "totalCount": 1,
    }
    counters = {key: value for key, value in done.items() if key.endswith("TestExecutions")}
    assert counters == {
        "totalTestExecutions": 1,
        "successfulTestExecutions": 1,
        "skippedTestExecutions": 0,
        "failedTestExecutions": 0,
        "notReachedTestExecutions": 0,
    }
    assert done["meta"]["testSuiteIds"] == [SEED.journey_id]
    clock.advance(timedelta(hours=1))
    assert await _status(api, execution_id) == done


async def test_a_failing_step_finishes_the_run_with_outcome_fail_and_the_rest_not_reached(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    await api.post("/teststeps", json=click(Clue(clue=f"Buy {FAIL_MARKER}").to_json()))
    await api.post("/teststeps", json=comment("never runs", index=2))
    execution_id = await _execute(api)
    clock.advance(timedelta(minutes=1))
    done = await _status(api, execution_id)
    assert (done["status"], done["outcome"]) == ("FINISHED", "FAIL")
    assert done["journeyStatistics"]["countPerOutcome"]["FAIL"] == 1
    assert done["failedTestExecutions"] == 1

    report = (await api.get("/testsuites/execution", params={"jobId": execution_id})).json()["item"]
    journey = report["journeys"][str(SEED.journey_id)]
    assert journey["lastExecution"]["outcome"] == "FAIL"
    steps = [
        step
        for checkpoint in journey["lastExecution"]["report"]["checkpoints"].values()
        for step in checkpoint["steps"].values()
    ]
    assert [step["outcome"] for step in steps] == ["PASS", "FAIL", "NOT_REACHED"]
    assert FAIL_MARKER in steps[1]["error"]


async def test_a_skipped_step_is_skip_and_does_not_fail(api: httpx.AsyncClient, clock: ManualClock) -> None:
    created = (await api.post("/teststeps", json=comment(f"would fail {FAIL_MARKER}"))).json()["item"]
    properties = {**created, "skip": True}  # the step as read back, one flag changed
    assert (await api.put(f"/teststeps/{created['id']}/properties", json=properties)).status_code == 200
    execution_id = await _execute(api)
    clock.advance(timedelta(minutes=1))
    assert ((await _status(api, execution_id))["outcome"]) == "PASS"


async def test_chosen_journeys_run_with_their_tags(api: httpx.AsyncClient, clock: ManualClock) -> None:
    other = (
        await api.post("/testsuites", json={"goalId": 201, "snapshotId": 301, "name": "Other", "tags": ["x"]})
    ).json()["item"]
    body = {"suiteIds": [other["id"]], "tags": ["nightly"], "environmentId": 7, "dataDriven": False}
    execution_id = await _execute(api, "/goals/201/snapshots/301/execute", body)
    status = await _status(api, execution_id)
    assert status["meta"]["testSuiteIds"] == [other["id"]]
    assert (status["tags"], status["environmentId"]) == (["nightly"], 7)
    assert status["meta"]["executionRequest"]["suiteIds"] == [other["id"]]
    everything = await _status(api, await _execute(api, "/goals/201/snapshots/301/execute", {"tags": []}))
    assert everything["meta"]["testSuiteIds"] == [SEED.journey_id, other["id"]]

    unknown = await api.post("/goals/201/snapshots/301/execute", json={"suiteIds": [99]})
    assert unknown.status_code == 400
    assert "suiteIds [99]" in error_of(unknown)["message"]


async def test_one_journey_runs_on_its_own_and_answers_item_id(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/testsuites/{SEED.journey_id}/execute", json={})
    item = response.json()["item"]
    assert (item["status"], item["meta"]["testSuiteIds"]) == ("QUEUED", [SEED.journey_id])


async def test_a_plan_starts_one_job_per_goal(api: httpx.AsyncClient, clock: ManualClock) -> None:
    started = (
        await api.post(f"/plans/executions/{SEED.plan_id}/execute", params={"envelope": "false"})
    ).json()
    (job_id,) = started["jobs"]
    assert started["jobs"][job_id]["status"] == "QUEUED"
    clock.advance(timedelta(minutes=1))
    status = (await api.get(f"/plans/executions/status/{started['id']}")).json()["item"]
    assert (status["status"], status["outcome"]) == ("FINISHED", "PASS")
    assert (await _status(api, int(job_id)))["outcome"] == "PASS"


@pytest.mark.parametrize(
    ("control", "status", "outcome"), [("cancel", "CANCELED", None), ("abort", "FAILED", "ERROR")]
)
async def test_a_run_stopped_by_a_test_control_ends_as_told(
    api: httpx.AsyncClient, clock: ManualClock, control: str, status: str, outcome: str | None
) -> None:
    await api.post("/teststeps", json=comment("one"))
    execution_id = await _execute(api)
    clock.advance(timedelta(seconds=QUEUED + STEP_SECONDS / 2))
    stopped = await api.post(f"http://sandbox.test/_sandbox/executions/{execution_id}/{control}")
    assert stopped.status_code == 200
    clock.advance(timedelta(minutes=1))
    done = await _status(api, execution_id)
    assert (done["status"], done["outcome"]) == (status, outcome)
    assert done["journeyStatistics"]["countPerOutcome"]["NOT_REACHED"] == 1
    assert done["endDate"] is not None


async def test_a_finished_run_stays_finished_when_cancelled_late(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    execution_id = await _execute(api)
    clock.advance(timedelta(minutes=1))
    await api.post(f"http://sandbox.test/_sandbox/executions/{execution_id}/cancel")
    assert (await _status(api, execution_id))["status"] == "FINISHED"


async def test_steps_added_after_the_start_are_not_in_the_run(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    execution_id = await _execute(api)
    await api.post("/teststeps", json=comment(f"late {FAIL_MARKER}"))
    clock.advance(timedelta(minutes=1))
    assert (await _status(api, execution_id))["outcome"] == "PASS"


async def test_throttled_requests_get_429_and_every_request_is_counted(api: httpx.AsyncClient) -> None:
    control = "http://sandbox.test/_sandbox"
    assert (await api.post(f"{control}/throttle", json={"requests": 2, "retryAfter": 3})).status_code == 200
    first, second, third = [await api.get("/projects") for _ in range(3)]
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"
    assert error_of(first)["code"] == "TOO_MANY_REQUESTS"
    counts = (await api.get(f"{control}/requests")).json()["item"]["counts"]
    assert counts == {"GET /projects": 3}


async def test_the_bodies_spotqas_scripts_send_are_taken(api: httpx.AsyncClient) -> None:
    # execute.py (SpotQA's CI script) sends no body, and PUTs the plan; the robot client POSTs {}.
    assert (await api.post("/goals/201/execute")).status_code == 200
    assert (await api.post("/goals/201/snapshots/301/execute")).status_code == 200
    put = await api.put(f"/plans/executions/{SEED.plan_id}/execute", params={"envelope": "false"})
    assert put.status_code == 200
    assert len(put.json()["jobs"]) == 1
