"""Management and library commands through ``POST /api/v1/commands``, against the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.commands.conftest import CHECKPOINT, run
from virtuoso_api.commands.vocabulary import catalogue
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED


async def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


async def test_build_a_project_down_to_a_checkpoint_and_list_it(
    client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    project = (await _ok(await run(client, writer, "create-project", "Checkout", "--description", "Shop")))[
        "project"
    ]
    goal = (
        await _ok(
            await run(
                client, writer, "create-goal", str(project["id"]), "Buy", "--url", "https://shop.example.com"
            )
        )
    )["goal"]
    assert goal["snapshot_id"] is not None
    journey = (await _ok(await run(client, writer, "create-journey", str(goal["id"]), "Happy path")))[
        "journey"
    ]
    made = await _ok(await run(client, writer, "create-checkpoint", str(journey["id"]), "Pay"))
    assert made["position"] == 2
    listed = await _ok(await run(client, writer, "list-checkpoints", str(journey["id"])), status=200)
    assert made["checkpoint"]["id"] in [c["id"] for c in listed["checkpoints"]]
    projects = await _ok(await run(client, writer, "list-projects"), status=200)
    assert "Checkout" in [p["name"] for p in projects["projects"]]
    goals = await _ok(await run(client, writer, "list-goals", str(project["id"])), status=200)
    assert [g["name"] for g in goals["goals"]] == ["Buy"]
    journeys = await _ok(await run(client, writer, "list-journeys", str(goal["id"])), status=200)
    assert "Happy path" in [j["name"] for j in journeys["journeys"]]


async def test_steps_can_be_listed_and_fetched(client: httpx.AsyncClient, writer: dict[str, str]) -> None:
    created = (
        await run(client, writer, "step-navigate", "to", "https://example.com", checkpoint_id=CHECKPOINT)
    ).json()
    steps = await _ok(await run(client, writer, "list-steps", f"cp_{CHECKPOINT}"), status=200)
    assert [s["id"] for s in steps["steps"]] == [created["step_id"]]
    step = await _ok(await run(client, writer, "get-step", str(created["step_id"])), status=200)
    assert step["step"]["value"] == "https://example.com"


@pytest.mark.parametrize(("marker", "outcome"), [("", "PASS"), ("sandbox:fail", "FAIL")])
async def test_execute_a_goal_and_read_its_status_and_analysis(
    client: httpx.AsyncClient, writer: dict[str, str], clock: ManualClock, marker: str, outcome: str
) -> None:
    await run(client, writer, "step-assert", "exists", f"Welcome {marker}".strip(), checkpoint_id=CHECKPOINT)
    started = await _ok(await run(client, writer, "execute-goal", str(SEED.goal_id)))
    (execution_id,) = started["execution_ids"]
    assert (started["kind"], started["runs"][0]["status"]) == ("goal", "QUEUED")
    clock.advance(timedelta(seconds=30))  # the sandbox runs on the service's clock
    status = await _ok(await run(client, writer, "get-execution", str(execution_id)), status=200)
    assert (status["run"]["status"], status["run"]["outcome"]) == ("FINISHED", outcome)
    analysis = await _ok(await run(client, writer, "get-execution-analysis", str(execution_id)), status=200)
    assert (analysis["analysis"]["summary"]["failed_steps"] > 0) == (outcome == "FAIL")
    # Started through the run service, so recorded as a run of this caller.
    listed = (await client.get("/api/v1/runs", headers=writer)).json()["runs"]
    assert [(r["execution_id"], r["source"]) for r in listed] == [(execution_id, "http")]


async def test_a_journey_and_a_plan_start_through_the_run_service(
    client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    journey = await _ok(await run(client, writer, "execute-journey", str(SEED.journey_id)))
    assert (journey["kind"], journey["journey_ids"]) == ("journey", [SEED.journey_id])
    plan = await _ok(await run(client, writer, "execute-plan", str(SEED.plan_id)))
    assert (plan["kind"], plan["plan_id"], len(plan["execution_ids"])) == ("plan", SEED.plan_id, 1)


async def test_library_round_trip(client: httpx.AsyncClient, writer: dict[str, str]) -> None:
    step = (await run(client, writer, "step-misc", "comment", "shared", checkpoint_id=CHECKPOINT)).json()
    library = (await _ok(await run(client, writer, "library", "add", f"cp_{CHECKPOINT}")))[
        "library_checkpoint"
    ]
    fetched = await _ok(await run(client, writer, "library", "get", f"lib_{library['id']}"), status=200)
    assert fetched["library_checkpoint"]["id"] == library["id"]
    renamed = await _ok(
        await run(client, writer, "library", "update", str(library["id"]), "Login steps"), 200
    )
    assert renamed["library_checkpoint"]["name"] == "Login steps"
    journey = (await _ok(await run(client, writer, "create-journey", str(SEED.goal_id), "Reuse")))["journey"]
    attached = await _ok(
        await run(client, writer, "library", "attach", str(journey["id"]), str(library["id"]), "2")
    )
    assert attached["position"] == 2
    moved = await _ok(
        await run(client, writer, "library", "move-step", str(library["id"]), str(step["step_id"]), "1"), 200
    )
    assert moved["moved"] is True
    removed = await _ok(
        await run(client, writer, "library", "remove-step", str(library["id"]), str(step["step_id"])), 200
    )
    assert removed["removed"] is True


async def test_unknown_ids_are_404(client: httpx.AsyncClient, writer: dict[str, str]) -> None:
    for command, args in (
        ("list-goals", ["999999"]),
        ("get-execution", ["999999"]),
        ("execute-plan", ["999999"]),
        ("library", ["get", "999999"]),
    ):
        response = await run(client, writer, command, *args)
        assert response.status_code == 404, (command, response.text)


async def test_the_catalogue_is_served_and_matches_the_parser(
    client: httpx.AsyncClient, writer: dict[str, str]
) -> None:
    response = await client.get("/api/v1/commands", headers=writer)
    assert response.status_code == 200
    body = response.json()
    assert body["commands"] == catalogue()
    assert body["count"] == len(catalogue())
    assert {entry["kind"] for entry in body["commands"]} >= {"step", "library", "management"}
