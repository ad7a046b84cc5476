"""Test steps: list a checkpoint's steps, create one at an index, read one, update its properties,
delete one.

``DELETE /teststeps/{id}`` is UNVERIFIED: neither the original system nor the public evidence shows
how Virtuoso deletes a journey's step (only a library checkpoint's, answered 204). The sandbox answers
it the same way, for suites that replace the steps of a re-run (``suites/placement.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from virtuoso_api.sandbox._deps import State, ok, ok_items
from virtuoso_api.sandbox.bodies import StepCreate, StepProperties
from virtuoso_api.sandbox.errors import SandboxError, bad_request

router = APIRouter()


@router.get("/checkpoints/{checkpoint_id}/teststeps")
async def list_steps(checkpoint_id: int, state: State) -> dict[str, Any]:
    checkpoint = state.checkpoint(checkpoint_id)
    return ok_items([state.step_json(step) for step in state.steps_of(checkpoint)])


@router.post("/teststeps")
async def create_step(body: StepCreate, state: State, envelope: bool = True) -> dict[str, Any]:
    """Insert at ``stepIndex`` (1..count+1; later steps move down). ``?envelope=false`` answers the
    bare step object instead of ``{"success", "item"}``."""
    checkpoint = state.checkpoint(body.checkpoint_id)
    last = len(checkpoint.step_ids) + 1
    if not 1 <= body.step_index <= last:
        raise bad_request(
            f"stepIndex {body.step_index} is out of range: checkpoint {checkpoint.id} has "
            f"{last - 1} steps, so use 1..{last}"
        )
    step = state.insert_step(checkpoint, body.step_index, body.parsed_step.stored())
    data = state.step_json(step)
    return ok(data) if envelope else data


@router.get("/teststeps/{step_id}")
async def get_step(step_id: int, state: State) -> dict[str, Any]:
    return ok(state.step_json(state.step(step_id)))


@router.put("/teststeps/{step_id}/properties")
async def update_properties(step_id: int, body: StepProperties, state: State) -> dict[str, Any]:
    step = state.step(step_id)
    if body.id != step_id:
        raise bad_request(f"body id {body.id} does not match step {step_id}")
    if body.canonical_id != step.canonical_id:
        raise SandboxError(409, "CONFLICT", f"canonical ID mismatch for step {step_id}")
    step.set_parsed(body.parsed())
    step.optional = body.optional
    step.ignore_outcome = body.ignore_outcome
    step.skip = body.skip
    return ok(state.step_json(step))


@router.delete("/teststeps/{step_id}", status_code=204)
async def delete_step(step_id: int, state: State) -> Response:
    step = state.step(step_id)
    state.checkpoint(step.checkpoint_id).step_ids.remove(step_id)
    del state.steps[step_id]
    return Response(status_code=204)
