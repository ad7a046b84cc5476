"""Projects, goals and goal versions (snapshots)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from virtuoso_api.sandbox._deps import Bare, State, answer, ok, ok_map
from virtuoso_api.sandbox.bodies import GoalCreate, ProjectCreate
from virtuoso_api.sandbox.records import GoalRecord, ProjectRecord

router = APIRouter()


@router.get("/projects")
async def list_projects(
    state: State,
    organization_id: int | None = Query(default=None, alias="organizationId"),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    found = sorted(
        (p for p in state.projects.values() if organization_id in (None, p.organization_id)),
        key=lambda project: project.id,
    )
    page = found[offset : offset + limit]
    return ok_map((project.to_json() for project in page), total=len(found))


@router.post("/projects")
async def create_project(body: ProjectCreate, state: State) -> dict[str, Any]:
    project = ProjectRecord(
        id=state.new_id(),
        name=body.name,
        description=body.description,
        organization_id=body.organization_id,
        created_at=state.now(),
    )
    state.projects[project.id] = project
    return ok(project.to_json())


@router.get("/projects/{project_id}/goals")
async def list_goals(project_id: int, state: State, archived: bool = False) -> dict[str, Any]:
    state.project(project_id)
    goals = sorted(
        (g for g in state.goals.values() if g.project_id == project_id and g.archived == archived),
        key=lambda goal: goal.id,
    )
    return ok_map(goal.to_json() for goal in goals)


@router.post("/goals")
async def create_goal(body: GoalCreate, state: State) -> dict[str, Any]:
    project = state.project(body.project_id)
    goal = GoalRecord(
        id=state.new_id(),
        project_id=project.id,
        name=body.name,
        url=body.url,
        snapshot_id=state.new_id(),
        created_at=state.now(),
    )
    state.goals[goal.id] = goal
    if body.create_first_journey:
        state.add_journey(goal, "Journey 1")
    return ok(goal.to_json())


@router.get("/goals/{goal_id}")
async def get_goal(goal_id: int, state: State, envelope: Bare = True) -> Any:
    return answer(state.goal(goal_id).to_json(), envelope)


@router.get("/goals/{goal_id}/versions")
async def goal_versions(goal_id: int, state: State, envelope: Bare = True) -> Any:
    goal = state.goal(goal_id)
    snapshot = {"snapshotId": goal.snapshot_id, "createdAt": goal.to_json()["createdAt"]}
    return answer({"goalId": goal.id, "snapshots": [snapshot]}, envelope)
