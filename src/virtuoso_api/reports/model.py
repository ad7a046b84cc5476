"""The one shape every report is rendered from: plain data, whatever produced the run.

A run of the runs domain (``from_run.py``) and a suite run (its steps carry their line in the suite
file) both become a :class:`ReportModel`; ``ReportService.publish(model)`` renders and stores it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class ReportKind(StrEnum):
    RUN = "run"  # a run on Virtuoso (/api/v1/runs)
    SUITE_RUN = "suite-run"  # a suite file run step by step (/api/v1/suites/runs)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
    RUNNING = "running"


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    NOT_RUN = "not_run"


class Link(BaseModel):
    label: str
    url: str


class StepRow(BaseModel):
    """One step: where it is (group, and its line in the suite file when it came from one), what it
    ran, how it ended."""

    group: str = Field(description="The journey and checkpoint, or the suite's section")
    name: str
    line: int | None = Field(default=None, description="Its line in the suite file")
    command: str | None = None
    status: StepStatus
    error: str | None = None
    duration_ms: int | None = None


class Counts(BaseModel):
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0


class ReportModel(BaseModel):
    kind: ReportKind
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$", description="The run's id (a blob name's part)")
    title: str
    outcome: Outcome
    status: str | None = Field(default=None, description="The backend's own status (Virtuoso's)")
    counts: Counts
    duration_ms: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    source: str | None = Field(default=None, description="The suite file, for a suite run")
    links: list[Link] = Field(default_factory=list, description="Virtuoso's pages for the run")
    steps: list[StepRow] = Field(default_factory=list)

    @property
    def folder(self) -> str:
        return f"{'runs' if self.kind is ReportKind.RUN else 'suite-runs'}/{self.id}"


def counted(steps: list[StepRow]) -> Counts:
    counts = Counts(total=len(steps))
    for step in steps:
        if step.status is StepStatus.PASSED:
            counts.passed += 1
        elif step.status is StepStatus.FAILED:
            counts.failed += 1
        elif step.status is StepStatus.ERROR:
            counts.errors += 1
        else:
            counts.skipped += 1
    return counts
