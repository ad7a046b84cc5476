"""The sandbox's records: what it stores per object, and how each one looks on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.virtuoso.steps import ParsedStep


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

    def set_parsed(self, parsed: ParsedStep) -> None:
        payload = parsed.to_payload()
        self.action = str(payload["action"])
        self.value = str(payload.get("value", ""))
        self.variable = payload.get("variable")
        self.meta = dict(payload.get("meta", {}))
        self.target = payload.get("target")


@dataclass
class CheckpointRecord:
    id: int
    goal_id: int
    snapshot_id: int
    title: str
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
    journey_id: int
    journey_name: str
    action: str
    outcome: str  # PASSED, FAILED or SKIPPED
    done_after: float  # seconds after the execution started
    error: str | None = None


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    goal_id: int
    snapshot_id: int
    started_at: datetime
    journeys: tuple[tuple[int, str], ...]
    plan: tuple[PlannedStep, ...]
    finishes_after: float
