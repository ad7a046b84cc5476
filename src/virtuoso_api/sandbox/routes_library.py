"""The checkpoint library. A library checkpoint is the original checkpoint, shared by reference."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from virtuoso_api.sandbox._deps import State, ok
from virtuoso_api.sandbox.bodies import LibraryUpdate, Move
from virtuoso_api.sandbox.errors import bad_request, not_found
from virtuoso_api.sandbox.records import CheckpointRecord, LibraryRecord
from virtuoso_api.sandbox.state import SandboxState

router = APIRouter()


@router.post("/testcases/{checkpoint_id}/add-to-library")
async def add_to_library(checkpoint_id: int, state: State) -> dict[str, Any]:
    """Idempotent: a checkpoint already in the library answers its existing library checkpoint."""
    checkpoint = state.checkpoint(checkpoint_id)
    if checkpoint.library_id is None:
        now = state.now()
        record = LibraryRecord(
            id=state.new_id(),
            checkpoint_id=checkpoint.id,
            name=checkpoint.title,
            created_at=now,
            updated_at=now,
        )
        state.library[record.id] = record
        checkpoint.library_id = record.id
    return ok(state.library_json(state.library[checkpoint.library_id]))


@router.get("/library/checkpoints/{library_id}")
async def get_library_checkpoint(library_id: int, state: State) -> dict[str, Any]:
    return ok(state.library_json(state.library_checkpoint(library_id)))


@router.put("/library/checkpoints/{library_id}")
async def update_library_checkpoint(library_id: int, body: LibraryUpdate, state: State) -> dict[str, Any]:
    record = state.library_checkpoint(library_id)
    record.name = body.name
    record.updated_at = state.now()
    return ok(state.library_json(record))


@router.post("/library/checkpoints/{library_id}/steps/{step_id}/move", status_code=204)
async def move_step(library_id: int, step_id: int, body: Move, state: State) -> Response:
    record, checkpoint = _library_step(state, library_id, step_id)
    count = len(checkpoint.step_ids)
    if not 1 <= body.position <= count:
        raise bad_request(f"position {body.position} is out of range: use 1..{count}")
    checkpoint.step_ids.remove(step_id)
    checkpoint.step_ids.insert(body.position - 1, step_id)
    record.updated_at = state.now()
    return Response(status_code=204)


@router.delete("/library/checkpoints/{library_id}/steps/{step_id}", status_code=204)
async def remove_step(library_id: int, step_id: int, state: State) -> Response:
    record, checkpoint = _library_step(state, library_id, step_id)
    checkpoint.step_ids.remove(step_id)
    del state.steps[step_id]
    record.updated_at = state.now()
    return Response(status_code=204)


def _library_step(
    state: SandboxState, library_id: int, step_id: int
) -> tuple[LibraryRecord, CheckpointRecord]:
    record = state.library_checkpoint(library_id)
    checkpoint = state.checkpoints[record.checkpoint_id]
    if step_id not in checkpoint.step_ids:
        raise not_found(f"step {step_id} in library checkpoint {library_id}")
    return record, checkpoint
