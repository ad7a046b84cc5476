"""The client against the sandbox (over ASGI): projects, goals, journeys, checkpoints and steps."""

from __future__ import annotations

import pytest

from virtuoso_api.errors import InvalidInput
from virtuoso_api.sandbox import SEED
from virtuoso_api.virtuoso import VirtuosoClient, VirtuosoNotFound, VirtuosoRejected
from virtuoso_api.virtuoso.models import Journey
from virtuoso_api.virtuoso.steps import Clue, ElementPosition, ParsedStep, StepAction, StepCreate, Target


def _click(clue: str) -> ParsedStep:
    return ParsedStep(action=StepAction.CLICK, target=Target.guess(Clue(clue=clue)))


def _comment(text: str) -> ParsedStep:
    return ParsedStep(action=StepAction.COMMENT, value=text)


async def _new_journey(client: VirtuosoClient) -> Journey:
    project = await client.create_project("Shop")
    goal = await client.create_goal(project.id, "Checkout", "https://shop.example")
    assert goal.snapshot_id is not None
    return await client.create_journey(goal.id, goal.snapshot_id, "Buy a hat")


async def test_projects_are_created_in_the_organization_and_listed(client: VirtuosoClient) -> None:
    project = await client.create_project("Shop", description="web shop")
    assert (project.name, project.description, project.organization_id) == ("Shop", "web shop", 2242)
    listed = await client.list_projects()
    assert [p.id for p in listed] == [SEED.project_id, project.id]


async def test_a_goal_gets_its_first_snapshot_and_a_first_journey(client: VirtuosoClient) -> None:
    project = await client.create_project("Shop")
    goal = await client.create_goal(project.id, "Checkout", "https://shop.example")
    assert goal.snapshot_id == await client.first_snapshot_id(goal.id)
    assert [g.id for g in await client.list_goals(project.id)] == [goal.id]
    assert goal.snapshot_id is not None
    journeys = await client.list_journeys(goal.id, goal.snapshot_id)
    assert [j.name for j in journeys] == ["Journey 1"]


async def test_a_goal_in_an_unknown_project_is_not_found(client: VirtuosoClient) -> None:
    with pytest.raises(VirtuosoNotFound, match="project 999 was not found in Virtuoso"):
        await client.create_goal(999, "x", "https://x.example")


async def test_a_journey_starts_with_the_navigation_checkpoint(client: VirtuosoClient) -> None:
    journey = await _new_journey(client)
    read = await client.get_journey(journey.id)
    assert len(read.cases) == 1
    navigation = read.cases[0].steps
    assert [(s.action, s.value, s.step_index) for s in navigation] == [
        ("NAVIGATE", "https://shop.example", 1)
    ]


async def test_a_journey_title_is_updated(client: VirtuosoClient) -> None:
    journey = await _new_journey(client)
    updated = await client.update_journey(journey.id, title="Buy two hats")
    assert updated.title == "Buy two hats"
    assert (await client.get_journey(journey.id)).title == "Buy two hats"


async def test_checkpoints_are_attached_at_the_end_or_at_a_position(client: VirtuosoClient) -> None:
    journey = await _new_journey(client)
    first = await client.add_checkpoint(journey, "Log in")
    last = await client.add_checkpoint(journey, "Pay")
    between = await client.add_checkpoint(journey, "Add to bag", position=3)
    cases = (await client.get_journey(journey.id)).cases
    assert [c.id for c in cases[1:]] == [first.id, between.id, last.id]
    assert (await client.get_checkpoint(between.id)).title == "Add to bag"


async def test_position_one_is_refused_before_anything_is_sent(client: VirtuosoClient) -> None:
    journey = await _new_journey(client)
    with pytest.raises(InvalidInput, match="position 1 is the goal's navigation checkpoint"):
        await client.add_checkpoint(journey, "Log in", position=1)
    assert len((await client.get_journey(journey.id)).cases) == 1


async def test_a_failed_attach_says_which_checkpoint_was_left_behind(client: VirtuosoClient) -> None:
    journey = await _new_journey(client)
    with pytest.raises(VirtuosoRejected, match=r"checkpoint \d+ was created but is not attached"):
        await client.add_checkpoint(journey, "Log in", position=9)


async def test_steps_are_appended_and_inserted(client: VirtuosoClient) -> None:
    checkpoint = SEED.checkpoint_id
    one = await client.append_step(checkpoint, _comment("one"))
    three = await client.append_step(checkpoint, _comment("three"))
    two = await client.create_step(
        StepCreate(checkpoint_id=checkpoint, step_index=2, parsed_step=_comment("two"))
    )
    zero = await client.create_step(
        StepCreate(checkpoint_id=checkpoint, step_index=1, parsed_step=_comment("zero"))
    )
    assert (one.step_index, three.step_index, two.step_index, zero.step_index) == (1, 2, 2, 1)
    listed = await client.list_steps(checkpoint)
    assert [(s.value, s.step_index) for s in listed] == [("zero", 1), ("one", 2), ("two", 3), ("three", 4)]
    assert [s.id for s in listed] == [zero.id, one.id, two.id, three.id]


async def test_a_step_index_past_the_end_is_rejected_with_virtuosos_message(client: VirtuosoClient) -> None:
    step = StepCreate(checkpoint_id=SEED.checkpoint_id, step_index=3, parsed_step=_comment("x"))
    with pytest.raises(VirtuosoRejected) as caught:
        await client.create_step(step)
    assert caught.value.upstream_status == 400
    assert "use 1..1" in caught.value.upstream_message
    assert await client.list_steps(SEED.checkpoint_id) == []


async def test_a_step_in_an_unknown_checkpoint_is_not_found(client: VirtuosoClient) -> None:
    step = StepCreate(checkpoint_id=424242, step_index=1, parsed_step=_comment("x"))
    with pytest.raises(VirtuosoNotFound, match="checkpoint 424242 was not found in Virtuoso"):
        await client.create_step(step)


@pytest.mark.parametrize(
    "selector",
    ['button "Buy now"', r"C:\temp\file \"x\"", 'text=Add to Bag \\n "quoted" \\', "ünïcode ✓"],
)
async def test_selectors_with_quotes_and_backslashes_round_trip(
    client: VirtuosoClient, selector: str
) -> None:
    created = await client.append_step(SEED.checkpoint_id, _click(selector))
    read = await client.get_step(created.id)
    assert read.target is not None
    assert Target.model_validate(read.target).clue() == Clue(clue=selector)


async def test_a_clue_with_position_and_element_type_round_trips(client: VirtuosoClient) -> None:
    clue = Clue(clue="Save", position=ElementPosition.TOP_LEFT, element_type="BUTTON")
    parsed = ParsedStep(action=StepAction.CLICK, target=Target.guess(clue, ai=True))
    created = await client.append_step(SEED.checkpoint_id, parsed)
    read = await client.get_step(created.id)
    assert read.target is not None
    target = Target.model_validate(read.target)
    assert target.selectors[0].kind == "AI"
    assert target.clue() == clue


async def test_step_properties_are_updated(client: VirtuosoClient) -> None:
    created = await client.append_step(
        SEED.checkpoint_id, ParsedStep(action=StepAction.NAVIGATE, value="https://a.example")
    )
    assert created.canonical_id is not None
    navigate = ParsedStep(action=StepAction.NAVIGATE, value="https://b.example", meta={"useNewTab": True})
    updated = await client.update_step_properties(
        created.id, canonical_id=created.canonical_id, parsed_step=navigate, optional=True
    )
    read = await client.get_step(created.id)
    assert updated == read
    assert (read.value, read.meta, read.optional, read.skip) == (
        "https://b.example",
        {"kind": "NAVIGATE", "useNewTab": True},
        True,
        False,
    )


async def test_a_wrong_canonical_id_is_rejected(client: VirtuosoClient) -> None:
    created = await client.append_step(SEED.checkpoint_id, _comment("x"))
    with pytest.raises(VirtuosoRejected) as caught:
        await client.update_step_properties(created.id, canonical_id="not-it", parsed_step=_comment("y"))
    assert caught.value.upstream_status == 409
    assert (await client.get_step(created.id)).value == "x"


async def test_an_unknown_step_is_not_found(client: VirtuosoClient) -> None:
    with pytest.raises(VirtuosoNotFound, match="step 31337 was not found in Virtuoso"):
        await client.get_step(31337)
