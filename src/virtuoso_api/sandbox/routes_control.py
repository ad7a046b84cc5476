"""Test controls: what a test (or a demo) tells the sandbox to do. Not part of Virtuoso's API, so they
live outside ``/api``, under ``/_sandbox``, behind the same token.

    POST /_sandbox/executions/{id}/cancel   the run ends CANCELED now
    POST /_sandbox/executions/{id}/abort    the run ends FAILED (could not complete), outcome ERROR
    POST /_sandbox/throttle                 {"requests": N, "retryAfter": S}: the next N API requests get 429
    GET  /_sandbox/requests                 how many requests reached each API path, e.g.
                                            {"GET /executions/10005/status": 4}
    POST /_sandbox/plans                    {"name": ..., "goalIds": [...]}: a plan to run
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from virtuoso_api.sandbox._deps import State, ok
from virtuoso_api.sandbox.bodies import Body
from virtuoso_api.sandbox.executions import execution_json, stop_execution
from virtuoso_api.sandbox.records import PlanRecord

router = APIRouter(prefix="/_sandbox")


class Throttle(Body):
    requests: int = Field(ge=0, le=10_000)
    retry_after: int = Field(default=1, ge=0, le=3600)


class PlanCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    goal_ids: list[int] = Field(min_length=1, max_length=50)


@router.post("/executions/{execution_id}/cancel")
async def cancel(execution_id: int, state: State) -> dict[str, Any]:
    record = state.execution(execution_id)
    stop_execution(state, record, "CANCELED")
    return ok(execution_json(state, record))


@router.post("/executions/{execution_id}/abort")
async def abort(execution_id: int, state: State) -> dict[str, Any]:
    record = state.execution(execution_id)
    stop_execution(state, record, "FAILED")
    return ok(execution_json(state, record))


@router.post("/throttle")
async def throttle(body: Throttle, state: State) -> dict[str, Any]:
    state.traffic.throttle(body.requests, retry_after_seconds=body.retry_after)
    return ok({"requests": body.requests, "retryAfter": body.retry_after})


@router.get("/requests")
async def requests(state: State) -> dict[str, Any]:
    counts = dict(sorted(state.traffic.counts.items()))
    return ok({"counts": counts, "total": sum(counts.values())})


@router.post("/plans")
async def create_plan(body: PlanCreate, state: State) -> dict[str, Any]:
    for goal_id in body.goal_ids:
        state.goal(goal_id)
    plan = PlanRecord(id=state.new_id(), name=body.name, goal_ids=list(body.goal_ids))
    state.plans[plan.id] = plan
    return ok({"id": plan.id, "name": plan.name, "goalIds": plan.goal_ids})
