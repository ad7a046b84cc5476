"""What Virtuoso refuses, the sandbox refuses: unknown ids (404) and values it cannot take (400).
Fields it does not know are accepted: nothing in the evidence shows Virtuoso refusing them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import click, comment, error_of


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("GET", "/projects/9/goals", None, "project 9 not found"),
        ("GET", "/goals/9/versions", None, "goal 9 not found"),
        ("GET", "/testsuites/9", None, "journey 9 not found"),
        ("PUT", "/testsuites/9", {"title": "t"}, "journey 9 not found"),
        (
            "GET",
            "/testsuites/latest_status?goalId=201&snapshotId=9",
            None,
            "snapshot 9 of goal 201 not found",
        ),
        ("GET", "/testcases/9", None, "checkpoint 9 not found"),
        ("GET", "/checkpoints/9/teststeps", None, "checkpoint 9 not found"),
        ("POST", "/teststeps", comment("x", checkpoint=9), "checkpoint 9 not found"),
        ("GET", "/teststeps/9", None, "step 9 not found"),
        ("GET", "/executions/9/status", None, "execution 9 not found"),
        ("GET", "/executions/analysis/9", None, "execution 9 not found"),
        ("GET", "/testsuites/execution?jobId=9", None, "execution 9 not found"),
        ("GET", "/goals/9", None, "goal 9 not found"),
        ("POST", "/goals/9/execute", {}, "goal 9 not found"),
        ("POST", "/goals/9/snapshots/301/execute", {"suiteIds": []}, "goal 9 not found"),
        ("POST", "/goals/201/snapshots/9/execute", {"tags": []}, "snapshot 9 of goal 201 not found"),
        ("POST", "/testsuites/9/execute", {}, "journey 9 not found"),
        ("POST", "/plans/executions/9/execute", {}, "plan 9 not found"),
        ("GET", "/plans/executions/status/9", None, "plan execution 9 not found"),
        ("GET", "/snapshots/9/goals/201/testsuites", None, "snapshot 9 of goal 201 not found"),
        ("POST", "/goals", {"projectId": 9, "name": "g", "url": "https://x"}, "project 9 not found"),
        ("POST", "/testcases", {"goalId": 9, "snapshotId": 301, "title": "t"}, "goal 9 not found"),
        ("POST", "/testcases/9/add-to-library", None, "checkpoint 9 not found"),
        ("GET", "/library/checkpoints/9", None, "library checkpoint 9 not found"),
        ("GET", "/testdata/tables/9", None, "test data table 9 not found"),
        (
            "POST",
            "/testsuites/401/checkpoints/attach",
            {"checkpointId": 9, "position": 2},
            "checkpoint 9 not found",
        ),
        ("GET", "/no/such/path", None, "Not Found"),
    ],
)
async def test_unknown_ids_are_404(
    api: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, message: str
) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == 404
    assert error_of(response) == {"code": "NOT_FOUND", "message": message}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({**comment("x"), "parsedStep": {"action": "TELEPORT"}}, "parsedStep.action"),
        (click("not json"), "not a valid clue JSON"),
        (click('["clue"]'), "not a valid clue JSON"),
        (click('{"hint": "a"}'), 'it needs a "clue" string'),
        (click('{"clue": "unterminated}'), "not a valid clue JSON"),
        ({**comment("x"), "stepIndex": 0}, "stepIndex"),
        ({**comment("x"), "stepIndex": -1}, "stepIndex"),
        (
            {**comment("x"), "stepIndex": 2},
            "stepIndex 2 is out of range: checkpoint 1001 has 0 steps, so use 1..1",
        ),
        ({"stepIndex": 1, "parsedStep": {"action": "COMMENT"}}, "checkpointId"),
    ],
)
async def test_bad_steps_are_400_and_create_nothing(
    api: httpx.AsyncClient, body: dict[str, Any], reason: str
) -> None:
    response = await api.post("/teststeps", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BAD_REQUEST"
    assert reason in error["message"]
    assert (await api.get("/checkpoints/1001/teststeps")).json()["items"] == []


async def test_a_selector_without_a_type_or_kind_is_400(api: httpx.AsyncClient) -> None:
    neither = click(json.dumps({"clue": "a"}))
    del neither["parsedStep"]["target"]["selectors"][0]["type"]
    response = await api.post("/teststeps", json=neither)
    assert response.status_code == 400
    assert "a selector needs a type" in error_of(response)["message"]


async def test_fields_the_sandbox_does_not_know_are_accepted(api: httpx.AsyncClient) -> None:
    step = {**comment("x"), "position": 3, "parsedStep": {"action": "COMMENT", "value": "x", "comment": "y"}}
    assert (await api.post("/teststeps", json=step)).status_code == 200
    clue = click('{"clue": "a", "colour": "red"}', index=2)
    assert (await api.post("/teststeps", json=clue)).status_code == 200
    project = {"name": "p", "organizationId": 2242, "colour": "red"}
    assert (await api.post("/projects", json=project)).status_code == 200
    journey = {"goalId": 201, "snapshotId": 301, "name": "j", "tags": [], "dataTableId": None}
    assert (await api.post("/testsuites", json=journey)).status_code == 200
    assert (await api.put("/testsuites/401", json={"title": "t", "archived": True})).status_code == 200
    run = {"goalId": 201, "snapshotId": 301, "suiteIds": [], "dataDriven": False}
    assert (await api.post("/goals/201/snapshots/301/execute", json=run)).status_code == 200


async def test_a_body_that_is_not_json_is_400(api: httpx.AsyncClient) -> None:
    response = await api.post("/teststeps", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/projects", {"name": "p", "organization_id": 2242}),  # snake_case is not Virtuoso's spelling
        ("/projects", {"name": "", "organizationId": 2242}),
        (
            "/goals",
            {"projectId": 101, "name": "g", "url": "https://x", "deviceSize": {"width": 0, "height": 1}},
        ),
        ("/testsuites", {"goalId": 201, "snapshotId": 301}),
        ("/testcases", {"goalId": 201, "snapshotId": 301}),
        ("/environments", {"name": "e", "variables": {"A": 1}}),
        ("/testdata/tables/create", {"name": "t", "columns": []}),
        ("/testdata/tables/create", {"name": "t", "columns": ["a", "a"]}),
    ],
)
async def test_bodies_with_bad_or_missing_fields_are_400(
    api: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    response = await api.post(path, json=body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "BAD_REQUEST"


async def test_a_journey_update_without_a_title_is_400(api: httpx.AsyncClient) -> None:
    response = await api.put("/testsuites/401", json={"name": "t"})
    assert response.status_code == 400
    assert (await api.get("/testsuites/401")).json()["item"]["title"] == "Demo journey"


async def _new_checkpoint(api: httpx.AsyncClient, goal: int = 201, snapshot: int = 301) -> int:
    response = await api.post("/testcases", json={"goalId": goal, "snapshotId": snapshot, "title": "t"})
    checkpoint_id: int = response.json()["item"]["id"]
    return checkpoint_id


@pytest.mark.parametrize(
    ("position", "message"),
    [
        (1, "position 1 is invalid: use 2 or more, position 1 is the goal's navigation checkpoint"),
        (0, "position 0 is invalid: use 2 or more, position 1 is the goal's navigation checkpoint"),
        (4, "position 4 is out of range: journey 401 takes 2..3"),
    ],
)
async def test_attach_positions_outside_2_to_count_plus_1_are_400(
    api: httpx.AsyncClient, position: int, message: str
) -> None:
    checkpoint = await _new_checkpoint(api)
    response = await api.post(
        "/testsuites/401/checkpoints/attach", json={"checkpointId": checkpoint, "position": position}
    )
    assert response.status_code == 400
    assert error_of(response)["message"] == message
    cases = (await api.get("/testsuites/401")).json()["item"]["cases"]
    assert [case["id"] for case in cases] == [1000, 1001]


async def test_attaching_twice_or_from_another_goal_is_400(api: httpx.AsyncClient) -> None:
    twice = await api.post("/testsuites/401/checkpoints/attach", json={"checkpointId": 1001, "position": 2})
    assert twice.status_code == 400
    assert "already in journey 401" in error_of(twice)["message"]

    project = (await api.post("/projects", json={"name": "p", "organizationId": 1})).json()["item"]
    goal = (
        await api.post("/goals", json={"projectId": project["id"], "name": "g", "url": "https://o"})
    ).json()["item"]
    foreign = await _new_checkpoint(api, goal["id"], goal["snapshotId"])
    response = await api.post(
        "/testsuites/401/checkpoints/attach", json={"checkpointId": foreign, "position": 2}
    )
    assert response.status_code == 400
    assert "not to journey 401" in error_of(response)["message"]


async def test_attach_needs_exactly_one_kind_of_checkpoint(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/testsuites/401/checkpoints/attach",
        json={"checkpointId": 1001, "libraryCheckpointId": 3, "position": 2},
    )
    assert response.status_code == 400
    assert "exactly one of checkpointId or libraryCheckpointId" in error_of(response)["message"]


async def test_a_run_body_with_bad_values_is_400(api: httpx.AsyncClient) -> None:
    for body in ({"suiteIds": "401"}, {"tags": [{"a": 1}]}, {"environmentId": "staging"}):
        response = await api.post("/goals/201/snapshots/301/execute", json=body)
        assert response.status_code == 400, body


async def test_library_step_moves_and_removals_are_checked(api: httpx.AsyncClient) -> None:
    step = (await api.post("/teststeps", json=comment("x"))).json()["item"]
    library = (await api.post("/testcases/1001/add-to-library")).json()["item"]
    base = f"/library/checkpoints/{library['id']}/steps"
    moved = await api.post(f"{base}/{step['id']}/move", json={"position": 2})
    assert moved.status_code == 400
    assert error_of(moved)["message"] == "position 2 is out of range: use 1..1"
    missing = await api.delete(f"{base}/5000")
    assert missing.status_code == 404
    assert error_of(missing)["message"] == f"step 5000 in library checkpoint {library['id']} not found"
    assert (await api.get("/teststeps/5000")).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([["b", "a"], ["1", "2"]], "does not match the table's columns"),
        ([["a", "b"], ["1"]], "row 2 has 1 values; the table has 2 columns"),
    ],
)
async def test_imports_must_match_the_table(
    api: httpx.AsyncClient, data: list[list[str]], message: str
) -> None:
    table = (await api.post("/testdata/tables/create", json={"name": "t", "columns": ["a", "b"]})).json()[
        "item"
    ]
    path = f"/testdata/tables/{table['id']}/import"
    response = await api.post(path, json={"tableId": table["id"], "data": data, "format": "csv"})
    assert response.status_code == 400
    assert message in error_of(response)["message"]
    wrong_format = await api.post(path, json={"tableId": table["id"], "data": [["a", "b"]], "format": "xlsx"})
    assert wrong_format.status_code == 400
    assert (await api.get(f"/testdata/tables/{table['id']}")).json()["item"]["rowCount"] == 0
