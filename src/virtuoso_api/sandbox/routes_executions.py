"""Starting runs (a goal, chosen journeys, one journey, a plan) and following them.

Paths and bodies as SpotQA's own client sends them (``spotqa/robot-framework-virtuoso``
``API/Virtuoso.py``); answers as captured from the real API (see ``executions.py``). ``?envelope=false``
answers the bare object, as Virtuoso does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query

from virtuoso_api.sandbox._deps import Bare, State, answer, ok
from virtuoso_api.sandbox.bodies import RunGoal, RunPlan
from virtuoso_api.sandbox.errors import bad_request
from virtuoso_api.sandbox.executions import analysis_json, execution_json, report_json, start_execution
from virtuoso_api.sandbox.plans import plan_execution_json, start_plan

router = APIRouter()


@router.post("/goals/{goal_id}/execute")
async def execute_goal(goal_id: int, state: State, envelope: Bare = True) -> Any:
    """Every journey of the goal's latest version (body ``{}``; anything else in it is ignored)."""
    goal = state.goal(goal_id)
    journeys = [journey for journey in state.journeys_of(goal) if not journey.archived]
    return answer(execution_json(state, start_execution(state, goal, journeys)), envelope)


@router.post("/goals/{goal_id}/snapshots/{snapshot_id}/execute")
async def execute_snapshot(
    goal_id: int,
    snapshot_id: int,
    state: State,
    body: RunGoal | None = Body(default=None),
    envelope: Bare = True,
) -> Any:
    """The journeys named in ``suiteIds`` (all of them when it is empty), labelled with ``tags``."""
    goal = state.goal_snapshot(goal_id, snapshot_id)
    body = body or RunGoal()
    available = {journey.id: journey for journey in state.journeys_of(goal) if not journey.archived}
    unknown = [suite for suite in body.suite_ids if suite not in available]
    if unknown:
        raise bad_request(f"suiteIds {unknown} are not journeys of snapshot {snapshot_id} of goal {goal_id}")
    chosen = [available[suite] for suite in dict.fromkeys(body.suite_ids)] or list(available.values())
    record = start_execution(
        state,
        goal,
        sorted(chosen, key=lambda journey: journey.id),
        requested=body.suite_ids,
        tags=body.tags,
        environment_id=body.environment_id,
    )
    return answer(execution_json(state, record), envelope)


@router.post("/testsuites/{journey_id}/execute")
async def execute_journey(journey_id: int, state: State, envelope: Bare = True) -> Any:
    journey = state.journey(journey_id)
    goal = state.goal(journey.goal_id)
    record = start_execution(state, goal, [journey], requested=[journey.id])
    return answer(execution_json(state, record), envelope)


# SpotQA's client POSTs here; the CI script copied around as ``execute.py`` PUTs: both are taken.
@router.api_route("/plans/executions/{plan_id}/execute", methods=["POST", "PUT"])
async def execute_plan(
    plan_id: int, state: State, body: RunPlan | None = Body(default=None), envelope: Bare = True
) -> Any:
    record = start_plan(state, state.plan(plan_id), environment_id=(body or RunPlan()).environment_id)
    return answer(plan_execution_json(state, record), envelope)


@router.get("/executions/{execution_id}/status")
async def execution_status(execution_id: int, state: State, envelope: Bare = True) -> Any:
    return answer(execution_json(state, state.execution(execution_id)), envelope)


@router.get("/plans/executions/status/{plan_execution_id}")
async def plan_status(plan_execution_id: int, state: State, envelope: Bare = True) -> Any:
    return answer(plan_execution_json(state, state.plan_execution(plan_execution_id)), envelope)


@router.get("/testsuites/execution")
async def execution_report(state: State, job_id: int = Query(alias="jobId"), envelope: Bare = True) -> Any:
    return answer(report_json(state, state.execution(job_id)), envelope)


@router.get("/executions/analysis/{execution_id}")
async def get_analysis(
    execution_id: int, state: State, include_ai: bool = Query(default=False, alias="includeAI")
) -> dict[str, Any]:
    return ok(analysis_json(state, state.execution(execution_id), include_ai=include_ai))
