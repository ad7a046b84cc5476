"""What ``/api/v1/runs`` takes and answers, and the record kept of each run this service started."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from virtuoso_api.history.models import Source
from virtuoso_api.kit.json_values import JSON_INTEGER
from virtuoso_api.kit.text import valid_unicode
from virtuoso_api.kit.timestamps import UtcDatetime
from virtuoso_api.virtuoso.executions import FAILING_OUTCOMES, Execution
from virtuoso_api.virtuoso.ids import MAX_ID

COLLECTION = "runs"
#: Virtuoso's ids are positive integers, taken up to the bound every id has here (15 digits).
Id = Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER]
# Spaces around a name or tag are dropped. Only ASCII's, so that "not blank" means the same to the
# service and to the OpenAPI document's pattern (JSON Schema's \s and Python's differ past ASCII).
_ASCII_SPACE: Final = " \t\n\r\f\v"


def _trimmed(value: str) -> str:
    trimmed = value.strip(_ASCII_SPACE)
    if not trimmed:
        raise ValueError("must not be blank")
    return trimmed


def _documented(max_length: int) -> WithJsonSchema:
    """A name or tag in the document: 1 to ``max_length`` characters as sent, not all spaces."""
    pattern = r"[^ \t\n\r\f\v]"  # _ASCII_SPACE, as a regular expression writes it
    return WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length, "pattern": pattern})


_LABEL: Final = (AfterValidator(valid_unicode), AfterValidator(_trimmed))
JourneyName = Annotated[str, StringConstraints(min_length=1, max_length=500), *_LABEL, _documented(500)]
JourneyRef = Id | JourneyName
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100), *_LABEL, _documented(100)]


class Kind(StrEnum):
    GOAL = "goal"  # every journey of a goal's latest version
    JOURNEYS = "journeys"  # chosen journeys (or all) of one goal version, with tags
    JOURNEY = "journey"  # one journey, on its own
    PLAN = "plan"  # one run per job of a plan


class Verdict(StrEnum):
    """What a run came to, for people and CI: each maps to one exit code of ``runs``."""

    PASSED = "passed"  # FINISHED, outcome PASS
    FAILED = "failed"  # FINISHED, outcome FAIL or ERROR: the tests failed
    INCOMPLETE = "incomplete"  # CANCELED, FAILED (the run itself), or FINISHED without a verdict
    RUNNING = "running"  # not ended (yet)


def verdict_of(execution: Execution) -> Verdict:
    if not execution.finished:
        return Verdict.RUNNING
    if execution.status == "FINISHED" and execution.outcome == "PASS":
        return Verdict.PASSED
    if execution.status == "FINISHED" and execution.outcome in FAILING_OUTCOMES:
        return Verdict.FAILED
    return Verdict.INCOMPLETE


def _only(target: str, *, null: tuple[str, ...], empty: tuple[str, ...] = ()) -> JsonValue:
    """One way to start a run, as JSON Schema states it: ``target`` given, the others null or left out."""
    properties: dict[str, JsonValue] = {target: {"type": "integer"}}
    properties |= {name: {"type": "null"} for name in null}
    properties |= {name: {"type": "array", "maxItems": 0} for name in empty}
    return {"required": [target], "properties": properties}


#: What ``_one_target`` checks, for the OpenAPI document.
_ONE_TARGET: Final[list[JsonValue]] = [
    _only("goal_id", null=("journey_id", "plan_id")),
    _only(
        "journey_id",
        null=("goal_id", "plan_id", "snapshot_id", "environment_id"),
        empty=("journeys", "tags"),
    ),
    _only("plan_id", null=("goal_id", "journey_id", "snapshot_id"), empty=("journeys", "tags")),
]


class RunRequest(BaseModel):
    """Start a run: exactly one of ``goal_id``, ``journey_id`` or ``plan_id``.

    - ``goal_id`` alone: every journey of the goal's latest version (``POST /goals/{id}/execute``).
    - ``goal_id`` with ``journeys`` (names or ids), ``tags``, ``snapshot_id`` or ``environment_id``:
      those journeys (all when none are named) of that version (``.../snapshots/{s}/execute``).
    - ``journey_id``: that one journey on its own.
    - ``plan_id``: the plan, optionally in ``environment_id``: one run per job it starts.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": _ONE_TARGET})

    goal_id: Id | None = None
    snapshot_id: Id | None = Field(default=None, description="The goal version (default: the latest)")
    journeys: list[JourneyRef] = Field(
        default_factory=list, max_length=200, description="Journeys of the goal, by title, name or id"
    )
    journey_id: Id | None = None
    plan_id: Id | None = None
    environment_id: Id | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50, description="Labels for the run")

    @model_validator(mode="after")
    def _one_target(self) -> RunRequest:
        chosen = [name for name in ("goal_id", "journey_id", "plan_id") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of goal_id, journey_id or plan_id")
        if self.goal_id is None and (self.journeys or self.snapshot_id is not None):
            raise ValueError("journeys and snapshot_id choose within a goal: give goal_id too")
        if self.goal_id is None and self.tags:
            raise ValueError("tags label goal runs only (Virtuoso takes them with the journeys to run)")
        if self.journey_id is not None and self.environment_id is not None:
            raise ValueError("environment_id applies to goal and plan runs, not to a single journey")
        return self

    @property
    def kind(self) -> Kind:
        if self.plan_id is not None:
            return Kind.PLAN
        if self.journey_id is not None:
            return Kind.JOURNEY
        plain = not (self.journeys or self.tags or self.snapshot_id or self.environment_id)
        return Kind.GOAL if plain else Kind.JOURNEYS


class StartedRun(BaseModel):
    execution_id: int | None = Field(description="Virtuoso's execution (job) id; null if it named none")
    goal_id: int | None = None
    status: str | None = None
    ui_url: str | None = None
    note: str | None = None


class StartedRuns(BaseModel):
    """What a start answers: the runs Virtuoso started (several for a plan)."""

    kind: Kind
    execution_ids: list[int]
    runs: list[StartedRun]
    goal_id: int | None = None
    snapshot_id: int | None = None
    journey_ids: list[int] = Field(default_factory=list)
    plan_id: int | None = None
    plan_execution_id: int | None = None
    started_at: UtcDatetime


class TestCounts(BaseModel):
    """Virtuoso's ``*TestExecutions`` counters (one test execution per journey run)."""

    __test__ = False  # not a pytest test class, whatever its name says

    total: int | None = None
    passed: int | None = None
    failed: int | None = None
    skipped: int | None = None
    not_reached: int | None = None


class RunView(BaseModel):
    """One run, normalised: the same shape whoever asks (HTTP, CLI, commands)."""

    execution_id: int
    status: str | None = Field(
        description="QUEUED, RUNNING, FINISHED, CANCELED, FAILED, or what Virtuoso says"
    )
    outcome: str | None = Field(description="PASS, FAIL, ERROR, ... once Virtuoso gives one")
    verdict: Verdict
    finished: bool
    progress: float | None = Field(description="0 to 1")
    counts: dict[str, int] = Field(description="Journeys per outcome (journeyStatistics.countPerOutcome)")
    journeys: int | None = Field(default=None, description="How many journeys the run has")
    tests: TestCounts
    goal_id: int | None = None
    snapshot_id: int | None = None
    project_id: int | None = None
    environment_id: int | None = None
    tags: list[Any] = Field(default_factory=list)
    submitted_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    duration_ms: int | None = None
    ui_url: str | None = Field(default=None, description="The run's page in the Virtuoso UI")
    reports: dict[str, str] | None = Field(
        default=None,
        description="Once the run ended: signed links to its report (`html`), result JSON (`json`) and "
        "JUnit XML (`junit`), valid for STORAGE_SIGNED_URL_MINUTES",
    )
    virtuoso: dict[str, Any] = Field(description="Virtuoso's answer as it came")


class RunRecord(BaseModel):
    """A run this service started: who started what, when, and (once seen) how it ended."""

    model_config = ConfigDict(extra="ignore")

    execution_id: int
    kind: Kind
    user_id: str
    key_id: str | None = None
    source: Source
    goal_id: int | None = None
    snapshot_id: int | None = None
    journey_ids: list[int] = Field(default_factory=list)
    plan_id: int | None = None
    plan_execution_id: int | None = None
    environment_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    project_id: int | None = None
    started_at: UtcDatetime
    #: What caused the start (the request id, or the job id): the run's events carry it.
    correlation_id: str | None = None
    status: str | None = None
    outcome: str | None = None
    verdict: Verdict = Verdict.RUNNING
    finished: bool = False
    ended_at: UtcDatetime | None = None
    checked_at: UtcDatetime | None = None


class RunPage(BaseModel):
    runs: list[RunRecord]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")
