"""Goal executions and their analysis (see executions.py for how they progress and fail)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from virtuoso_api.sandbox._deps import State, ok
from virtuoso_api.sandbox.bodies import Execute
from virtuoso_api.sandbox.errors import bad_request
from virtuoso_api.sandbox.executions import analysis_json, execution_json, start_execution

router = APIRouter()


@router.post("/goals/{goal_id}/snapshots/{snapshot_id}/execute")
async def execute(goal_id: int, snapshot_id: int, body: Execute, state: State) -> dict[str, Any]:
    goal = state.goal_snapshot(goal_id, snapshot_id)
    if (body.goal_id, body.snapshot_id) != (goal_id, snapshot_id):
        raise bad_request("goalId and snapshotId in the body must match the path")
    record = start_execution(state, goal)
    return ok(execution_json(record, state.now()))


@router.get("/executions/{execution_id}")
async def get_execution(execution_id: str, state: State) -> dict[str, Any]:
    return ok(execution_json(state.execution(execution_id), state.now()))


@router.get("/executions/analysis/{execution_id}")
async def get_analysis(
    execution_id: str, state: State, include_ai: bool = Query(default=False, alias="includeAI")
) -> dict[str, Any]:
    record = state.execution(execution_id)
    return ok(analysis_json(record, state.now(), include_ai=include_ai))
