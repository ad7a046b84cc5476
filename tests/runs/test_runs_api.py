"""``/api/v1/runs`` against a sandbox on a real socket: passing, failing, cancelled and plan runs, many
waiters on one run, Virtuoso's quota, JUnit, and what a caller may get wrong."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.runs.conftest import ServedSandbox, add_step, waited
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.services import Services


async def _start(client: httpx.AsyncClient, writer: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/runs", headers=writer, json=body)
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"/api/v1/runs/{started['execution_ids'][0]}"
    return started


async def test_a_goal_run_is_started_followed_and_passes(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    await add_step(sandbox, "all good")
    started = await _start(client, writer, goal_id=SEED.goal_id)
    (execution_id,) = started["execution_ids"]
    assert started["kind"] == "goal"
    assert started["runs"][0]["ui_url"] == (
        f"https://app.virtuoso.qa/#/project/{SEED.project_id}/execution/{execution_id}"
    )
    assert sandbox.state.traffic.count("POST", f"/goals/{SEED.goal_id}/execute") == 1

    view = await waited(client, writer, execution_id)
    assert (view["status"], view["outcome"], view["verdict"], view["finished"]) == (
        "FINISHED",
        "PASS",
        "passed",
        True,
    )
    assert (view["progress"], view["counts"]["PASS"], view["journeys"]) == (1.0, 1, 1)
    assert view["tests"] == {"total": 1, "passed": 1, "failed": 0, "skipped": 0, "not_reached": 0}
    assert view["duration_ms"] == 1000  # two steps of 0.5 s
    assert view["started_at"].endswith("Z")
    assert view["ui_url"] == started["runs"][0]["ui_url"]
    assert view["virtuoso"]["status"] == "FINISHED"  # Virtuoso's own answer, as it came

    listed = (await client.get("/api/v1/runs", headers=writer)).json()["runs"]
    assert [(r["execution_id"], r["kind"], r["source"], r["verdict"], r["finished"]) for r in listed] == [
        (execution_id, "goal", "http", "passed", True)
    ]


async def test_a_failing_step_makes_a_failed_run_and_junit_shows_it(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    step_id = await add_step(sandbox, f"pay {FAIL_MARKER}")
    after_id = await add_step(sandbox, "after the failure")
    started = await _start(client, writer, goal_id=SEED.goal_id, journeys=["Demo journey"], tags=["nightly"])
    (execution_id,) = started["execution_ids"]
    assert (started["kind"], started["journey_ids"], started["snapshot_id"]) == (
        "journeys",
        [SEED.journey_id],
        SEED.snapshot_id,
    )
    view = await waited(client, writer, execution_id)
    assert (view["status"], view["outcome"], view["verdict"]) == ("FINISHED", "FAIL", "failed")
    assert view["tags"] == ["nightly"]

    response = await client.get(f"/api/v1/runs/{execution_id}/junit", headers=writer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    suite = ET.fromstring(response.text).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("Virtuoso", "Demo journey"),
        ("Demo journey", "Navigate to https://example.com / step 1 NAVIGATE (5000)"),
        ("Demo journey", f"Demo checkpoint / step 1 COMMENT ({step_id})"),
        ("Demo journey", f"Demo checkpoint / step 2 COMMENT ({after_id})"),
    ]
    failures = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failures == ["Demo journey", f"Demo checkpoint / step 1 COMMENT ({step_id})"]
    assert cases[3].find("skipped") is not None  # NOT_REACHED after the failure
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")


async def test_a_cancelled_run_did_not_complete(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    await add_step(sandbox, "one")
    (execution_id,) = (await _start(client, writer, goal_id=SEED.goal_id))["execution_ids"]
    assert (await sandbox.control("POST", f"/executions/{execution_id}/cancel")).status_code == 200
    view = await waited(client, writer, execution_id)
    assert (view["status"], view["verdict"], view["counts"]["NOT_REACHED"]) == ("CANCELED", "incomplete", 1)


async def test_a_plan_starts_one_run_per_job(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    # A second goal whose journey fails, and a plan running both goals.
    goal = (
        await sandbox.virtuoso(
            "POST",
            "/goals",
            json={
                "projectId": SEED.project_id,
                "name": "Broken",
                "url": "https://x",
                "createFirstJourney": True,
            },
        )
    ).json()["item"]
    journey = (
        await sandbox.virtuoso("GET", f"/snapshots/{goal['snapshotId']}/goals/{goal['id']}/testsuites")
    ).json()
    checkpoint = next(iter(journey["map"].values()))["cases"][0]["id"]
    await add_step(sandbox, f"boom {FAIL_MARKER}", checkpoint=checkpoint)
    plan = (
        await sandbox.control(
            "POST", "/plans", json={"name": "Nightly", "goalIds": [SEED.goal_id, goal["id"]]}
        )
    ).json()["item"]

    started = await _start(client, writer, plan_id=plan["id"], environment_id=3)
    assert started["kind"] == "plan"
    assert started["plan_execution_id"] is not None
    views = [await waited(client, writer, execution_id) for execution_id in started["execution_ids"]]
    assert [(v["goal_id"], v["verdict"], v["environment_id"]) for v in views] == [
        (SEED.goal_id, "passed", 3),
        (goal["id"], "failed", 3),
    ]
    listed = (await client.get("/api/v1/runs", params={"goal_id": goal["id"]}, headers=writer)).json()["runs"]
    assert [(r["kind"], r["plan_id"], r["verdict"]) for r in listed] == [("plan", plan["id"], "failed")]


async def test_many_waiters_on_one_run_share_one_poll_loop(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox, services: Services
) -> None:
    for index in range(6):
        await add_step(sandbox, f"step {index}")
    (execution_id,) = (await _start(client, writer, goal_id=SEED.goal_id))["execution_ids"]
    waiters = [waited(client, writer, execution_id) for _ in range(12)]
    views = await asyncio.gather(*waiters)
    assert {view["verdict"] for view in views} == {"passed"}
    assert services.runs.watcher.loops_started == 1
    # One loop's reads, not twelve waiters': QUEUED at 0 s, then (after RUN_POLL_SECONDS, 5 s on the
    # service's clock) FINISHED, the run's 7 steps having taken 4.5 s.
    assert sandbox.status_reads(execution_id) == 2
    assert services.runs.watcher.following == 0  # the loop ended with the run


async def test_a_429_slows_polling_and_never_fails_the_run(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox, clock: ManualClock
) -> None:
    (execution_id,) = (await _start(client, writer, goal_id=SEED.goal_id))["execution_ids"]
    before = clock.now()
    throttle = await sandbox.control("POST", "/throttle", json={"requests": 2, "retryAfter": 1})
    assert throttle.status_code == 200
    view = await waited(client, writer, execution_id)
    assert view["verdict"] == "passed"
    assert sandbox.status_reads(execution_id) == 3  # two answered 429, then the one that saw it end
    # Unthrottled, the loop reads again after RUN_POLL_SECONDS (5 s). Each 429 doubled the pause
    # (10 s, then 20 s): the clock moved only by the loop's pauses.
    assert (clock.now() - before).total_seconds() == 30


async def test_a_run_throttled_past_the_wait_is_a_503_not_a_failed_run(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    (execution_id,) = (await _start(client, writer, goal_id=SEED.goal_id))["execution_ids"]
    throttle = await sandbox.control("POST", "/throttle", json={"requests": 1000, "retryAfter": 1})
    assert throttle.status_code == 200
    response = await client.get(f"/api/v1/runs/{execution_id}", params={"wait": 30}, headers=writer)
    # Throttled throughout: the wait ends (on the service's clock) and the last read that was
    # possible is a 503 naming Virtuoso, not a failed run.
    assert response.status_code == 503
    assert response.json()["error"]["details"]["backend"] == "virtuoso"


async def test_an_idempotency_key_starts_the_run_once(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    headers = {**writer, "Idempotency-Key": "deploy-4711"}
    first = await client.post("/api/v1/runs", headers=headers, json={"goal_id": SEED.goal_id})
    again = await client.post("/api/v1/runs", headers=headers, json={"goal_id": SEED.goal_id})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert sandbox.state.traffic.count("POST", f"/goals/{SEED.goal_id}/execute") == 1
    other = await client.post("/api/v1/runs", headers=headers, json={"plan_id": SEED.plan_id})
    assert other.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"goal_id": 201, "plan_id": 501}, "body"),
        ({"plan_id": 501, "journeys": ["Demo journey"]}, "body"),
        ({"plan_id": 501, "tags": ["x"]}, "body"),
        ({"journey_id": 401, "environment_id": 2}, "body"),
        ({"goal_id": 0}, "goal_id"),
        ({"goal_id": "201; DROP"}, "goal_id"),
        ({"goal_id": 201, "journeys": [""]}, "journeys[0]"),
        ({"goal_id": 201, "tags": ["x" * 101]}, "tags[0]"),
        ({"goal_id": 201, "colour": "red"}, "colour"),
    ],
)
async def test_a_bad_request_is_422_naming_the_field(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await client.post("/api/v1/runs", headers=writer, json=body)
    assert response.status_code == 422, response.text
    assert any(detail["field"].startswith(field) for detail in response.json()["error"]["details"])
    assert sandbox.state.traffic.counts == {}  # nothing reached Virtuoso


async def test_unknown_goals_journeys_plans_and_runs_are_refused(
    client: httpx.AsyncClient, writer: dict[str, str], sandbox: ServedSandbox
) -> None:
    assert (await client.post("/api/v1/runs", headers=writer, json={"goal_id": 999})).status_code == 404
    assert (await client.post("/api/v1/runs", headers=writer, json={"plan_id": 999})).status_code == 404
    named = await client.post("/api/v1/runs", headers=writer, json={"goal_id": 201, "journeys": ["Nope"]})
    assert named.status_code == 422
    assert named.json()["error"]["details"] == [
        {"field": "journeys[0]", "reason": "no journey 'Nope' in goal 201; it has 'Demo journey' (401)"}
    ]
    assert (await client.get("/api/v1/runs/424242", headers=writer)).status_code == 404
    assert (await client.get("/api/v1/runs/0", headers=writer)).status_code == 422
    assert (await client.get("/api/v1/runs/1?wait=61", headers=writer)).status_code == 422
    assert sandbox.state.traffic.count("POST", "/goals/201/snapshots/301/execute") == 0


async def test_reading_needs_read_and_starting_needs_write(
    client: httpx.AsyncClient, sandbox: ServedSandbox, make_key: Any
) -> None:
    from virtuoso_api.api_keys.models import Scope

    reader = {"X-API-Key": await make_key(Scope.READ, name="reader")}
    refused = await client.post("/api/v1/runs", headers=reader, json={"goal_id": SEED.goal_id})
    assert refused.status_code == 403
    assert (await client.get("/api/v1/runs", headers=reader)).status_code == 200
    assert (await client.get("/api/v1/runs")).status_code == 401
    assert sandbox.state.traffic.counts == {}
