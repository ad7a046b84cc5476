"""The demo objects a seeded sandbox starts with, at fixed ids, so commands work at once.

    organization 2242 → project 101 "Sandbox demo" → goal 201 (https://example.com, snapshot 301)
    → journey 401 "Demo journey": checkpoint 1000 (navigation, step 5000), checkpoint 1001 (empty)
    plan 501 "Demo plan": runs goal 201

So ``virtuoso-api exec ... --checkpoint 1001`` adds steps to a checkpoint that is already in a journey.
"""

from __future__ import annotations

from dataclasses import dataclass

from virtuoso_api.sandbox.records import GoalRecord, PlanRecord, ProjectRecord
from virtuoso_api.sandbox.state import SandboxState


@dataclass(frozen=True)
class SeedIds:
    organization_id: int = 2242
    project_id: int = 101
    goal_id: int = 201
    snapshot_id: int = 301
    journey_id: int = 401
    navigation_checkpoint_id: int = 1000
    navigation_step_id: int = 5000
    checkpoint_id: int = 1001
    plan_id: int = 501
    url: str = "https://example.com"


SEED = SeedIds()


def seed(state: SandboxState, ids: SeedIds = SEED) -> None:
    now = state.now()
    project = ProjectRecord(
        id=ids.project_id,
        name="Sandbox demo",
        description="Seeded by the Virtuoso sandbox",
        organization_id=ids.organization_id,
        created_at=now,
    )
    state.projects[project.id] = project
    goal = GoalRecord(
        id=ids.goal_id,
        project_id=project.id,
        name="Demo goal",
        url=ids.url,
        snapshot_id=ids.snapshot_id,
        created_at=now,
    )
    state.goals[goal.id] = goal
    journey = state.add_journey(
        goal, "Demo journey", ids=(ids.journey_id, ids.navigation_checkpoint_id, ids.navigation_step_id)
    )
    checkpoint = state.add_checkpoint(goal, "Demo checkpoint", checkpoint_id=ids.checkpoint_id)
    journey.checkpoint_ids.append(checkpoint.id)
    state.plans[ids.plan_id] = PlanRecord(id=ids.plan_id, name="Demo plan", goal_ids=[goal.id])
