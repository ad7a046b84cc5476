"""The client against the sandbox (over ASGI): the library, environments and test data."""

from __future__ import annotations

import pytest

from virtuoso_api.sandbox import SEED
from virtuoso_api.virtuoso import VirtuosoClient, VirtuosoNotFound, VirtuosoRejected
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction


def _comment(text: str) -> ParsedStep:
    return ParsedStep(action=StepAction.COMMENT, value=text)


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
