"""The client against the sandbox (over ASGI): executions, the library, environments and test data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.virtuoso import VirtuosoClient, VirtuosoNotFound, VirtuosoRejected
from virtuoso_api.virtuoso.models import Goal
from virtuoso_api.virtuoso.steps import Clue, ParsedStep, StepAction, Target


def _comment(text: str) -> ParsedStep:
    return ParsedStep(action=StepAction.COMMENT, value=text)


async def _goal_with_two_journeys(client: VirtuosoClient, *, fail_in_first: bool) -> Goal:
    """Goal (its first journey has only navigation) + journey A (3 steps) + journey B (1 step)."""
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


async def test_an_execution_progresses_to_completed(client: VirtuosoClient, clock: ManualClock) -> None:
    goal = await _goal_with_two_journeys(client, fail_in_first=False)
    assert goal.snapshot_id is not None
    started = await client.execute_goal(goal.id, goal.snapshot_id)
    assert started.status == "QUEUED"
    # Journey 1: navigation; A: navigation + 3; B: navigation.
    assert (started.progress.total_steps, started.progress.total_journeys) == (6, 3)

    clock.advance(timedelta(seconds=2))
    running = await client.get_execution(started.id)
    assert running.status == "RUNNING"
    assert running.progress.completed_steps == 2
    assert not running.finished

    clock.advance(timedelta(seconds=60))
    done = await client.get_execution(started.id)
    assert done.status == "COMPLETED"
    assert done.finished
    assert (done.progress.completed_steps, done.progress.percent_complete, done.progress.success_rate) == (
        6,
        100,
        100,
    )
    assert {r.status for r in done.step_results} == {"PASSED"}

    analysis = await client.get_execution_analysis(started.id)
    assert analysis.execution_id == started.id
    assert (
        analysis.summary.passed_steps,
        analysis.summary.failed_steps,
        analysis.summary.passed_journeys,
    ) == (6, 0, 3)
    assert analysis.failures == []


async def test_an_execution_with_a_failing_step_ends_failed(
    client: VirtuosoClient, clock: ManualClock
) -> None:
    goal = await _goal_with_two_journeys(client, fail_in_first=True)
    assert goal.snapshot_id is not None
    started = await client.execute_goal(goal.id, goal.snapshot_id)
    clock.advance(timedelta(seconds=60))
    done = await client.get_execution(started.id)
    assert done.status == "FAILED"
    statuses = [r.status for r in done.step_results]
    assert statuses == ["PASSED", "PASSED", "PASSED", "FAILED", "SKIPPED", "PASSED"]
    assert done.progress.failed_steps == 1

    analysis = await client.get_execution_analysis(started.id, include_ai=True)
    summary = analysis.summary
    assert (summary.passed_steps, summary.failed_steps, summary.skipped_steps) == (4, 1, 1)
    assert (summary.passed_journeys, summary.failed_journeys) == (2, 1)
    assert [(f.journey_name, f.action) for f in analysis.failures] == [("A", "CLICK")]
    assert analysis.failures[0].step_id == done.step_results[3].step_id


async def test_executing_an_unknown_snapshot_is_not_found(client: VirtuosoClient) -> None:
    with pytest.raises(VirtuosoNotFound, match="snapshot 999 of goal 201 was not found"):
        await client.execute_goal(SEED.goal_id, 999)
    with pytest.raises(VirtuosoNotFound, match="execution nope was not found"):
        await client.get_execution("nope")


async def test_the_library_shares_a_checkpoint_between_journeys(client: VirtuosoClient) -> None:
    first = await client.append_step(SEED.checkpoint_id, _comment("one"))
    second = await client.append_step(SEED.checkpoint_id, _comment("two"))
    third = await client.append_step(SEED.checkpoint_id, _comment("three"))

    library = await client.add_to_library(SEED.checkpoint_id)
    assert (library.name, [s.id for s in library.steps]) == (
        "Demo checkpoint",
        [first.id, second.id, third.id],
    )
    renamed = await client.update_library_checkpoint(library.id, name="Log in")
    assert renamed.name == "Log in"
    assert (await client.get_library_checkpoint(library.id)).name == "Log in"

    journey = await client.create_journey(SEED.goal_id, SEED.snapshot_id, "Reuses the library")
    attached = await client.attach_library_checkpoint(journey.id, library.id, 2)
    assert attached.id == SEED.checkpoint_id
    assert [c.id for c in (await client.get_journey(journey.id)).cases][1:] == [SEED.checkpoint_id]

    await client.move_library_step(library.id, third.id, 1)
    await client.remove_library_step(library.id, second.id)
    assert [s.id for s in (await client.get_library_checkpoint(library.id)).steps] == [third.id, first.id]
    # The original checkpoint is the library checkpoint: the change shows there too.
    assert [s.value for s in await client.list_steps(SEED.checkpoint_id)] == ["three", "one"]
    with pytest.raises(VirtuosoNotFound):
        await client.get_step(second.id)


async def test_a_missing_library_checkpoint_is_not_found(client: VirtuosoClient) -> None:
    with pytest.raises(VirtuosoNotFound, match="library checkpoint 77 was not found"):
        await client.get_library_checkpoint(77)


async def test_environments_keep_their_variables(client: VirtuosoClient) -> None:
    staging = await client.create_environment(
        "staging", description="pre-prod", variables={"BASE": "https://s.example"}
    )
    bare = await client.create_environment("bare")
    assert (staging.name, staging.description, staging.variables) == (
        "staging",
        "pre-prod",
        {"BASE": "https://s.example"},
    )
    assert bare.variables == {}
    assert bare.id > staging.id


async def test_test_data_rows_are_imported(client: VirtuosoClient) -> None:
    table = await client.create_test_data_table("users", ["email", "password"], description="logins")
    assert (table.columns, table.row_count) == (["email", "password"], 0)
    await client.import_test_data(table.id, [["email", "password"], ["a@x.io", "pw1"], ["b@x.io", "pw,2"]])
    read = await client.get_test_data_table(table.id)
    assert (read.name, read.description, read.row_count) == ("users", "logins", 2)

    with pytest.raises(VirtuosoRejected, match="does not match the table's columns"):
        await client.import_test_data(table.id, [["user", "password"], ["c@x.io", "pw3"]])
    assert (await client.get_test_data_table(table.id)).row_count == 2
