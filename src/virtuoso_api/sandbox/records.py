"""The sandbox's records: what it stores per object, and how each one looks on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from virtuoso_api.kit.timestamps import format_timestamp


@dataclass
class ProjectRecord:
    id: int
    name: str
    description: str | None
    organization_id: int
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "organizationId": self.organization_id,
            "createdAt": format_timestamp(self.created_at),
        }


@dataclass
class GoalRecord:
    id: int
    project_id: int
    name: str
    url: str
    snapshot_id: int
    created_at: datetime
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "projectId": self.project_id,
            "name": self.name,
            "description": None,
            "url": self.url,
            "snapshotId": self.snapshot_id,
            "latestSnapshotId": self.snapshot_id,
            "archived": self.archived,
            "createdAt": format_timestamp(self.created_at),
        }


@dataclass
class StepRecord:
    """A stored step. ``target`` is kept as sent (selectors of any type) and answered under
    ``element.target``, as Virtuoso reads steps back."""

    id: int
    canonical_id: str
    checkpoint_id: int
    action: str
    value: str
    variable: str | None
    meta: dict[str, Any]
    target: dict[str, Any] | None
    optional: bool = False
    ignore_outcome: bool = False
    skip: bool = False

    def set_parsed(self, parsed: dict[str, Any]) -> None:
        """Take ``action``, ``value``, ``variable``, ``meta`` and ``target`` from a parsed step (JSON)."""
        self.action = str(parsed["action"])
        self.value = str(parsed.get("value") or "")
        self.variable = parsed.get("variable")
        self.meta = dict(parsed.get("meta") or {})
        self.target = parsed.get("target")


@dataclass
class CheckpointRecord:
    id: int
    goal_id: int
    snapshot_id: int
    title: str
    canonical_id: str
    step_ids: list[int] = field(default_factory=list)
    library_id: int | None = None


@dataclass
class JourneyRecord:
    id: int
    goal_id: int
    snapshot_id: int
    name: str
    title: str
    canonical_id: str
    updated_at: datetime
    archived: bool = False
    draft: bool = True
    checkpoint_ids: list[int] = field(default_factory=list)


@dataclass
class LibraryRecord:
    id: int
    checkpoint_id: int
    name: str
    created_at: datetime
    updated_at: datetime


@dataclass
class EnvironmentRecord:
    id: int
    name: str
    description: str
    variables: dict[str, str]
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        stamp = format_timestamp(self.created_at)
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "variables": self.variables,
            "createdAt": stamp,
            "updatedAt": stamp,
        }


@dataclass
class TableRecord:
    id: int
    name: str
    description: str
    columns: list[str]
    created_at: datetime
    updated_at: datetime
    rows: list[list[str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "columns": self.columns,
            "rowCount": len(self.rows),
            "createdAt": format_timestamp(self.created_at),
            "updatedAt": format_timestamp(self.updated_at),
            "meta": {},
        }


@dataclass(frozen=True)
class PlannedStep:
    """One step of an execution, its outcome decided when the execution starts (see executions.py)."""

    step_id: int
    checkpoint_id: int
    checkpoint_key: str  # the checkpoint's canonical id, as reports key checkpoints
    journey_id: int
    action: str
    outcome: str  # PASS, FAIL, SKIP (``skip: true``) or NOT_REACHED (after a failure)
    done_after: float  # seconds after the execution was submitted
    error: str | None = None


@dataclass(frozen=True)
class PlannedJourney:
    id: int
    name: str
    title: str
    canonical_id: str


@dataclass
class ExecutionRecord:
    """A run. ``stopped_as`` is CANCELED or FAILED once a test control stopped it at ``stopped_at``."""

    id: int
    goal_id: int
    snapshot_id: int
    environment_id: int | None
    tags: list[str]
    requested_suite_ids: list[int]
    submitted_at: datetime
    queued_seconds: float
    journeys: tuple[PlannedJourney, ...]
    plan: tuple[PlannedStep, ...]
    finishes_after: float
    trigger_type: str
    plan_execution_id: int | None = None
    stopped_at: datetime | None = None
    stopped_as: str | None = None


@dataclass
class PlanRecord:
    id: int
    name: str
    goal_ids: list[int]


@dataclass
class PlanExecutionRecord:
    id: int
    plan_id: int
    environment_id: int | None
    submitted_at: datetime
    job_ids: list[int]
