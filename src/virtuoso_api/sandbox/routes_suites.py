"""Journeys (``testsuites``), checkpoints (``testcases``) and attaching checkpoints to journeys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.sandbox._deps import Bare, State, ok
from virtuoso_api.sandbox.bodies import Attach, CheckpointCreate, JourneyCreate, JourneyUpdate
from virtuoso_api.sandbox.errors import bad_request
from virtuoso_api.sandbox.records import CheckpointRecord, JourneyRecord

router = APIRouter()


@router.post("/testsuites")
async def create_journey(body: JourneyCreate, state: State) -> dict[str, Any]:
    goal = state.goal_snapshot(body.goal_id, body.snapshot_id)
    journey = state.add_journey(goal, body.name, title=body.title)
    journey.archived = body.archived
    journey.draft = body.draft
    return ok(state.journey_json(journey, with_cases=False))


# Declared before /testsuites/{journey_id}, which would otherwise take "latest_status" as an id.
@router.get("/testsuites/latest_status")
async def latest_status(
    state: State,
    goal_id: int = Query(alias="goalId"),
    snapshot_id: int = Query(alias="snapshotId"),
    include_sequences_details: bool = Query(default=False, alias="includeSequencesDetails"),
) -> dict[str, Any]:
    goal = state.goal_snapshot(goal_id, snapshot_id)
    found = {
        str(journey.id): {
            "journey": state.journey_json(journey, with_cases=include_sequences_details),
            "lastChange": {"date": format_timestamp(journey.updated_at)},
        }
        for journey in state.journeys_of(goal)
    }
    return {"success": True, "map": found, "total": len(found)}


@router.get("/snapshots/{snapshot_id}/goals/{goal_id}/testsuites")
async def snapshot_journeys(snapshot_id: int, goal_id: int, state: State, envelope: Bare = True) -> Any:
    """A goal version's journeys with their checkpoints, as a map keyed by id (SpotQA's client reads
    ``.values()`` of the bare answer)."""
    goal = state.goal_snapshot(goal_id, snapshot_id)
    found = {
        str(journey.id): state.journey_json(journey, with_cases=True) for journey in state.journeys_of(goal)
    }
    return {"success": True, "map": found} if envelope else found


@router.get("/testsuites/{journey_id}")
async def get_journey(journey_id: int, state: State) -> dict[str, Any]:
    return ok(state.journey_json(state.journey(journey_id), with_cases=True))


@router.put("/testsuites/{journey_id}")
async def update_journey(journey_id: int, body: JourneyUpdate, state: State) -> dict[str, Any]:
    journey = state.journey(journey_id)
    journey.title = body.title
    journey.updated_at = state.now()
    return ok(state.journey_json(journey, with_cases=False))


@router.post("/testcases")
async def create_checkpoint(body: CheckpointCreate, state: State) -> dict[str, Any]:
    goal = state.goal_snapshot(body.goal_id, body.snapshot_id)
    checkpoint = state.add_checkpoint(goal, body.title)
    return ok(state.checkpoint_json(checkpoint))


@router.get("/testcases/{checkpoint_id}")
async def get_checkpoint(checkpoint_id: int, state: State) -> dict[str, Any]:
    return ok(state.checkpoint_json(state.checkpoint(checkpoint_id)))


@router.post("/testsuites/{journey_id}/checkpoints/attach")
async def attach(journey_id: int, body: Attach, state: State) -> dict[str, Any]:
    """Attach a checkpoint, or a library checkpoint (shared, by reference), at ``position`` >= 2."""
    journey = state.journey(journey_id)
    if body.library_checkpoint_id is not None:
        checkpoint = state.checkpoints[state.library_checkpoint(body.library_checkpoint_id).checkpoint_id]
    else:
        assert body.checkpoint_id is not None  # the body model requires one of the two
        checkpoint = state.checkpoint(body.checkpoint_id)
        if (checkpoint.goal_id, checkpoint.snapshot_id) != (journey.goal_id, journey.snapshot_id):
            raise bad_request(
                f"checkpoint {checkpoint.id} belongs to goal {checkpoint.goal_id} snapshot "
                f"{checkpoint.snapshot_id}, not to journey {journey.id}'s goal {journey.goal_id} "
                f"snapshot {journey.snapshot_id}"
            )
    _insert(journey, checkpoint, body.position)
    journey.updated_at = state.now()
    return ok(state.checkpoint_json(checkpoint))


def _insert(journey: JourneyRecord, checkpoint: CheckpointRecord, position: int) -> None:
    last = len(journey.checkpoint_ids) + 1
    if position < 2:
        raise bad_request(
            f"position {position} is invalid: use 2 or more, position 1 is the goal's navigation checkpoint"
        )
    if position > last:
        raise bad_request(f"position {position} is out of range: journey {journey.id} takes 2..{last}")
    if checkpoint.id in journey.checkpoint_ids:
        raise bad_request(f"checkpoint {checkpoint.id} is already in journey {journey.id}")
    journey.checkpoint_ids.insert(position - 1, checkpoint.id)
