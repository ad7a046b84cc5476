"""Steps: insertion shifts later steps, append, envelopes, selectors kept byte for byte, updates."""

from __future__ import annotations

import json

import httpx

from tests.sandbox.conftest import click, comment, error_of
from virtuoso_api.virtuoso.steps import Clue, Target


async def _values(api: httpx.AsyncClient, checkpoint: int = 1001) -> list[tuple[str, int]]:
    items = (await api.get(f"/checkpoints/{checkpoint}/teststeps")).json()["items"]
    return [(item["value"], item["stepIndex"]) for item in items]


async def test_inserting_shifts_later_steps_and_count_plus_one_appends(api: httpx.AsyncClient) -> None:
    for text, index in [("b", 1), ("d", 2), ("a", 1), ("c", 3), ("e", 5)]:
        response = await api.post("/teststeps", json=comment(text, index=index))
        assert response.status_code == 200
        assert response.json()["item"]["stepIndex"] == index
    assert await _values(api) == [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]


async def test_envelope_false_answers_the_bare_step(api: httpx.AsyncClient) -> None:
    bare = (await api.post("/teststeps", params={"envelope": "false"}, json=comment("x"))).json()
    wrapped = (await api.post("/teststeps", json=comment("y", index=2))).json()
    assert set(bare) >= {"id", "canonicalId", "checkpointId", "stepIndex", "action", "value"}
    assert "success" not in bare
    assert wrapped["success"] is True
    assert wrapped["item"]["id"] == bare["id"] + 1


async def test_a_selector_with_quotes_and_backslashes_is_kept_exactly(api: httpx.AsyncClient) -> None:
    text = 'say "hi" \\ and \\"bye\\" \u2713'
    selector_value = Clue(clue=text).to_json()
    created = (await api.post("/teststeps", json=click(selector_value))).json()["item"]
    read = (await api.get(f"/teststeps/{created['id']}")).json()["item"]
    target = read["element"]["target"]  # read back under element.target, as Virtuoso answers
    assert target["selectors"][0]["value"] == selector_value
    assert json.loads(target["selectors"][0]["value"])["clue"] == text
    assert Target.model_validate(target).clue().clue == text


async def test_a_step_is_read_back_with_what_was_sent(api: httpx.AsyncClient) -> None:
    target = {"selectors": [{"kind": "AI", "value": '{"clue": "Price"}'}]}
    body = {
        "checkpointId": 1001,
        "stepIndex": 1,
        "parsedStep": {
            "action": "STORE",
            "value": "",
            "variable": "price",
            "meta": {"attribute": "data-price"},
            "target": target,
        },
    }
    created = (await api.post("/teststeps", json=body)).json()["item"]
    read = (await api.get(f"/teststeps/{created['id']}")).json()["item"]
    assert read == created
    assert (read["action"], read["variable"], read["meta"], read["checkpointId"]) == (
        "STORE",
        "price",
        {"kind": "STORE", "attribute": "data-price"},
        1001,
    )
    assert read["element"] == {"target": target}
    assert (read["optional"], read["ignoreOutcome"], read["skip"]) == (False, False, False)


async def test_properties_replace_the_step_and_need_its_canonical_id(api: httpx.AsyncClient) -> None:
    created = (await api.post("/teststeps", json=comment("old"))).json()["item"]
    path = f"/teststeps/{created['id']}/properties"
    update = {
        "id": created["id"],
        "canonicalId": created["canonicalId"],
        "action": "NAVIGATE",
        "value": "https://n.example",
        "meta": {"kind": "NAVIGATE", "type": "URL", "useNewTab": False},
        "optional": False,
        "ignoreOutcome": True,
        "skip": False,
    }
    conflict = await api.put(path, json={**update, "canonicalId": "other"})
    assert conflict.status_code == 409
    assert error_of(conflict)["message"] == f"canonical ID mismatch for step {created['id']}"
    mismatch = await api.put(path, json={**update, "id": created["id"] + 1})
    assert mismatch.status_code == 400
    assert (await api.get(f"/teststeps/{created['id']}")).json()["item"]["value"] == "old"

    # A field the sandbox does not know is accepted (nothing shows Virtuoso refusing one).
    updated = (await api.put(path, json={**update, "colour": "red"})).json()["item"]
    assert (updated["action"], updated["value"], updated["ignoreOutcome"], updated["stepIndex"]) == (
        "NAVIGATE",
        "https://n.example",
        True,
        1,
    )
    assert updated["canonicalId"] == created["canonicalId"]


async def test_a_step_with_recorded_selectors_of_any_type_is_kept(api: httpx.AsyncClient) -> None:
    target = {
        "kind": "INPUT",
        "selectors": [
            {"type": "XPATH", "value": "/html/body/input"},
            {"type": "ID", "value": "username"},
            {"type": "CSS_SELECTOR", "value": "form > .user"},
            {"type": "GUESS", "value": '{"clue":"Username"}'},
        ],
        "tagName": "INPUT",
    }
    body = {"checkpointId": 1001, "stepIndex": 1, "parsedStep": {"action": "WRITE", "target": target}}
    created = (await api.post("/teststeps", json=body)).json()["item"]
    assert created["element"]["target"] == target
    read_back = {**created, "skip": True}
    updated = (await api.put(f"/teststeps/{created['id']}/properties", json=read_back)).json()["item"]
    assert (updated["element"]["target"], updated["skip"]) == (target, True)


async def test_journeys_list_by_goal_and_snapshot(api: httpx.AsyncClient) -> None:
    created = (
        await api.post("/testsuites", json={"goalId": 201, "snapshotId": 301, "name": "Second"})
    ).json()["item"]
    listed = (
        await api.get(
            "/testsuites/latest_status",
            params={"goalId": 201, "snapshotId": 301, "includeSequencesDetails": "true"},
        )
    ).json()
    assert list(listed["map"]) == ["401", str(created["id"])]
    assert listed["map"][str(created["id"])]["journey"]["title"] == "Second"
    assert "date" in listed["map"]["401"]["lastChange"]
