"""What Virtuoso answers, as typed models (camelCase on the wire, snake_case in Python).

Fields Virtuoso may leave out are optional and unknown fields are ignored, so a richer answer from the
real API still parses. Virtuoso's names: a goal snapshot is a "version", a journey a ``testsuite``, a
checkpoint a ``testcase`` and a step a ``teststep``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class VirtuosoModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Project(VirtuosoModel):
    id: int
    name: str = ""
    description: str | None = None
    organization_id: int | None = None
    created_at: datetime | None = None


class Goal(VirtuosoModel):
    id: int
    project_id: int | None = None
    name: str = ""
    description: str | None = None
    url: str | None = None
    snapshot_id: int | None = None
    latest_snapshot_id: int | None = None


class GoalSnapshot(VirtuosoModel):
    snapshot_id: int


class GoalVersions(VirtuosoModel):
    """``GET /goals/{id}/versions``: the goal's snapshots, the first one being the one to author in."""

    snapshots: list[GoalSnapshot] = Field(default_factory=list)


class StepSelector(VirtuosoModel):
    """One way to find a step's element. Read back, a step has several, of any ``type`` (XPATH, ID,
    CSS_SELECTOR, GUESS, ...; evidence: ``.archive/test-data/testsuite-527211.json`` in
    ``insidejob/Virtuoso-Execution-Extractor``); we only ever write GUESS (or ``kind: AI``)."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    kind: str | None = None
    value: str = ""


class StepElement(VirtuosoModel):
    """``element`` of a step read back: ``target`` holds ``selectors`` (and ``kind``, ``tagName``, ...)."""

    model_config = ConfigDict(extra="allow")

    id: int | None = None
    target: dict[str, Any] | None = None


class Step(VirtuosoModel):
    """A test step as Virtuoso stores it.

    Virtuoso answers the element under ``element.target`` (``virtuoso-evidence.md``, "Stored steps, as
    read back"), with ``meta.kind`` set and the flags ``optional``, ``ignoreOutcome``, ``skip``;
    ``target`` is that same object (or a top-level ``target``, as the original system sent it), so
    code that compares what was sent with what is stored reads one field.
    """

    id: int
    canonical_id: str | None = None
    checkpoint_id: int | None = None
    step_index: int | None = None
    action: str | None = None
    value: str | None = None
    variable: str | None = None
    optional: bool = False
    ignore_outcome: bool = False
    skip: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)
    element: StepElement | None = None
    target: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _target_from_element(self) -> Step:
        if self.target is None and self.element is not None and self.element.target is not None:
            self.target = self.element.target
        return self

    @property
    def selectors(self) -> list[StepSelector]:
        raw = (self.target or {}).get("selectors")
        return [StepSelector.model_validate(item) for item in raw or [] if isinstance(item, dict)]


class Checkpoint(VirtuosoModel):
    """A checkpoint (``testcase``); inside a journey Virtuoso marks it ``kind: "Checkpoint"``."""

    id: int
    kind: str | None = None
    canonical_id: str | None = None
    goal_id: int | None = None
    snapshot_id: int | None = None
    title: str = ""
    steps: list[Step] = Field(default_factory=list)


class Journey(VirtuosoModel):
    """A journey (``testsuite``); ``cases``: its checkpoints in order, from ``GET /testsuites/{id}``."""

    id: int
    goal_id: int | None = None
    snapshot_id: int | None = None
    name: str = ""
    title: str | None = None
    canonical_id: str | None = None
    data_table_id: int | None = None  # set for data-driven journeys
    archived: bool = False
    draft: bool = False
    tags: list[Any] = Field(default_factory=list)
    cases: list[Checkpoint] = Field(default_factory=list)


class AnalysisSummary(VirtuosoModel):
    total_steps: int = 0
    passed_steps: int = 0
    failed_steps: int = 0
    skipped_steps: int = 0
    success_rate: float = 0.0
    duration: float | None = None
    total_journeys: int = 0
    passed_journeys: int = 0
    failed_journeys: int = 0


class AnalysisFailure(VirtuosoModel):
    step_id: int | None = None
    journey_name: str | None = None
    checkpoint_id: int | None = None
    action: str | None = None
    error: str | None = None
    screenshot: str | None = None
    ai_suggestion: str | None = None
    timestamp: datetime | None = None


class AnalysisPerformance(VirtuosoModel):
    average_step_time: float | None = None
    slowest_step_time: float | None = None
    fastest_step_time: float | None = None
    network_requests: int | None = None
    javascript_errors: int | None = None
    page_load_time: float | None = None


class ExecutionAnalysis(VirtuosoModel):
    """``GET /executions/analysis/{id}``: UNVERIFIED (only the original system shows this endpoint and
    shape); kept for ``get-execution-analysis``. Runs are judged by the status answer instead."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    execution_id: str
    summary: AnalysisSummary = Field(default_factory=AnalysisSummary)
    failures: list[AnalysisFailure] = Field(default_factory=list)
    performance: AnalysisPerformance = Field(default_factory=AnalysisPerformance)
    ai_insights: list[Any] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)


class LibraryCheckpoint(VirtuosoModel):
    id: int
    name: str = ""
    description: str | None = None
    steps: list[Step] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Environment(VirtuosoModel):
    id: int
    name: str = ""
    description: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TestDataTable(VirtuosoModel):
    __test__ = False  # not a pytest test class, whatever its name says

    id: int
    name: str = ""
    description: str | None = None
    columns: list[str] = Field(default_factory=list)
    row_count: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
