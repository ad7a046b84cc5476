"""The sandbox's world, in memory: projects → goals (one snapshot each) → journeys → checkpoints → steps.

Checkpoints hold their steps in order, so a step's ``stepIndex`` is its place in that list and inserting
one shifts the ones after it. A journey holds its checkpoints in order; position 1 is always the goal's
navigation checkpoint. A library checkpoint *is* a checkpoint shared by reference, as in Virtuoso:
changing its steps changes them in every journey that uses it. Ids come from one counter.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.sandbox.errors import not_found
from virtuoso_api.sandbox.records import (
    CheckpointRecord,
    EnvironmentRecord,
    ExecutionRecord,
    GoalRecord,
    JourneyRecord,
    LibraryRecord,
    PlanExecutionRecord,
    PlanRecord,
    ProjectRecord,
    StepRecord,
    TableRecord,
)
from virtuoso_api.sandbox.traffic import Traffic
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction

#: Ids of objects made after start-up begin here, above every seeded id.
FIRST_ID = 10001

T = TypeVar("T")


class SandboxState:
    """Every object of the sandbox, with lookups that answer 404 as Virtuoso does."""

    def __init__(self, *, token: str, clock: Clock, step_seconds: float = 0.5) -> None:
        self.token = token
        self.clock = clock
        #: How long each step of an execution takes; an execution is queued for twice that.
        self.step_seconds = step_seconds
        self.traffic = Traffic()
        self.projects: dict[int, ProjectRecord] = {}
        self.goals: dict[int, GoalRecord] = {}
        self.journeys: dict[int, JourneyRecord] = {}
        self.checkpoints: dict[int, CheckpointRecord] = {}
        self.steps: dict[int, StepRecord] = {}
        self.library: dict[int, LibraryRecord] = {}
        self.environments: dict[int, EnvironmentRecord] = {}
        self.tables: dict[int, TableRecord] = {}
        self.executions: dict[int, ExecutionRecord] = {}
        self.plans: dict[int, PlanRecord] = {}
        self.plan_executions: dict[int, PlanExecutionRecord] = {}
        self._next_id = FIRST_ID

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def now(self) -> datetime:
        return self.clock.now()

    # -- lookups -------------------------------------------------------------------------------
    def project(self, project_id: int) -> ProjectRecord:
        return _found(self.projects, project_id, "project")

    def goal(self, goal_id: int) -> GoalRecord:
        return _found(self.goals, goal_id, "goal")

    def goal_snapshot(self, goal_id: int, snapshot_id: int) -> GoalRecord:
        goal = self.goal(goal_id)
        if goal.snapshot_id != snapshot_id:
            raise not_found(f"snapshot {snapshot_id} of goal {goal_id}")
        return goal

    def journey(self, journey_id: int) -> JourneyRecord:
        return _found(self.journeys, journey_id, "journey")

    def checkpoint(self, checkpoint_id: int) -> CheckpointRecord:
        return _found(self.checkpoints, checkpoint_id, "checkpoint")

    def step(self, step_id: int) -> StepRecord:
        return _found(self.steps, step_id, "step")

    def library_checkpoint(self, library_id: int) -> LibraryRecord:
        return _found(self.library, library_id, "library checkpoint")

    def table(self, table_id: int) -> TableRecord:
        return _found(self.tables, table_id, "test data table")

    def execution(self, execution_id: int) -> ExecutionRecord:
        return _found(self.executions, execution_id, "execution")

    def plan(self, plan_id: int) -> PlanRecord:
        return _found(self.plans, plan_id, "plan")

    def plan_execution(self, plan_execution_id: int) -> PlanExecutionRecord:
        return _found(self.plan_executions, plan_execution_id, "plan execution")

    def project_of(self, goal_id: int) -> int:
        return self.goals[goal_id].project_id

    def steps_of(self, checkpoint: CheckpointRecord) -> list[StepRecord]:
        return [self.steps[step_id] for step_id in checkpoint.step_ids]

    def journeys_of(self, goal: GoalRecord) -> list[JourneyRecord]:
        found = [
            j for j in self.journeys.values() if j.goal_id == goal.id and j.snapshot_id == goal.snapshot_id
        ]
        return sorted(found, key=lambda journey: journey.id)

    # -- changes -------------------------------------------------------------------------------
    def add_checkpoint(
        self, goal: GoalRecord, title: str, *, checkpoint_id: int | None = None
    ) -> CheckpointRecord:
        record = CheckpointRecord(
            id=checkpoint_id or self.new_id(),
            goal_id=goal.id,
            snapshot_id=goal.snapshot_id,
            title=title,
            canonical_id=str(uuid.uuid4()),
        )
        self.checkpoints[record.id] = record
        return record

    def insert_step(
        self, checkpoint: CheckpointRecord, index: int, parsed: dict[str, Any], *, step_id: int | None = None
    ) -> StepRecord:
        """Put a step (a parsed step as JSON) at 1-based ``index``; the caller has checked
        1 <= index <= count + 1."""
        record = StepRecord(
            id=step_id or self.new_id(),
            canonical_id=str(uuid.uuid4()),
            checkpoint_id=checkpoint.id,
            action="",
            value="",
            variable=None,
            meta={},
            target=None,
        )
        record.set_parsed(parsed)
        self.steps[record.id] = record
        checkpoint.step_ids.insert(index - 1, record.id)
        return record

    def add_journey(
        self,
        goal: GoalRecord,
        name: str,
        *,
        title: str | None = None,
        ids: tuple[int, int, int] | None = None,
    ) -> JourneyRecord:
        """A journey whose first checkpoint navigates to the goal's URL; ``ids`` fixes (journey,
        navigation checkpoint, navigation step) ids for the seed."""
        journey_id, checkpoint_id, step_id = ids or (self.new_id(), self.new_id(), self.new_id())
        navigation = self.add_checkpoint(goal, f"Navigate to {goal.url}", checkpoint_id=checkpoint_id)
        navigate = ParsedStep(action=StepAction.NAVIGATE, value=goal.url, meta={"useNewTab": False})
        self.insert_step(navigation, 1, navigate.to_payload(), step_id=step_id)
        journey = JourneyRecord(
            id=journey_id,
            goal_id=goal.id,
            snapshot_id=goal.snapshot_id,
            name=name,
            title=title or name,
            canonical_id=str(uuid.uuid4()),
            updated_at=self.now(),
            checkpoint_ids=[navigation.id],
        )
        self.journeys[journey.id] = journey
        return journey

    # -- JSON ----------------------------------------------------------------------------------
    def step_json(self, step: StepRecord) -> dict[str, Any]:
        """A step as Virtuoso reads it back: the element under ``element.target`` and ``meta.kind``
        set (``virtuoso-evidence.md``, "Stored steps, as read back")."""
        checkpoint = self.checkpoints[step.checkpoint_id]
        return {
            "id": step.id,
            "canonicalId": step.canonical_id,
            "checkpointId": step.checkpoint_id,
            "stepIndex": checkpoint.step_ids.index(step.id) + 1,
            "action": step.action,
            "value": step.value,
            "variable": step.variable,
            "optional": step.optional,
            "ignoreOutcome": step.ignore_outcome,
            "skip": step.skip,
            "meta": {"kind": step.action, **step.meta},
            "element": None if step.target is None else {"target": step.target},
        }

    def checkpoint_json(self, checkpoint: CheckpointRecord) -> dict[str, Any]:
        return {
            "kind": "Checkpoint",
            "id": checkpoint.id,
            "canonicalId": checkpoint.canonical_id,
            "goalId": checkpoint.goal_id,
            "snapshotId": checkpoint.snapshot_id,
            "title": checkpoint.title,
            "libraryCheckpointId": checkpoint.library_id,
            "steps": [self.step_json(step) for step in self.steps_of(checkpoint)],
        }

    def journey_json(self, journey: JourneyRecord, *, with_cases: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": journey.id,
            "goalId": journey.goal_id,
            "snapshotId": journey.snapshot_id,
            "name": journey.name,
            "title": journey.title,
            "canonicalId": journey.canonical_id,
            "dataTableId": None,
            "archived": journey.archived,
            "draft": journey.draft,
            "tags": [],
        }
        if with_cases:
            data["cases"] = [self.checkpoint_json(self.checkpoints[i]) for i in journey.checkpoint_ids]
        return data

    def library_json(self, record: LibraryRecord) -> dict[str, Any]:
        checkpoint = self.checkpoints[record.checkpoint_id]
        return {
            "id": record.id,
            "name": record.name,
            "description": None,
            "checkpointId": record.checkpoint_id,
            "steps": [self.step_json(step) for step in self.steps_of(checkpoint)],
            "createdAt": format_timestamp(record.created_at),
            "updatedAt": format_timestamp(record.updated_at),
        }


def _found(records: dict[Any, T], record_id: Any, what: str) -> T:
    record = records.get(record_id)
    if record is None:
        raise not_found(f"{what} {record_id}")
    return record
