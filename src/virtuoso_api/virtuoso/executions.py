"""Runs as Virtuoso answers them: executions, plan executions and execution reports.

Shapes follow the independent evidence (``reference/virtuoso-evidence.md``), not the original system:

- SpotQA's own client, ``spotqa/robot-framework-virtuoso`` ``API/Virtuoso.py``
  (``check_execution_outcome``): poll ``GET /executions/{id}/status?envelope=false`` until ``status``
  is FINISHED, CANCELED or FAILED, then read ``outcome``.
- A captured real answer, ``insidejob/Virtuoso-Execution-Extractor``
  ``.archive/test-data/executions_88715_status.json``: ``progress`` is a number from 0 to 1, dates are
  epoch milliseconds, ``duration`` is in ms, ``journeyStatistics.countPerOutcome``, the
  ``*TestExecutions`` counters and ``meta.executionRequest``.
- SpotQA's CI script (``pratyushShriv/code`` ``execute.py``): a plan answers ``jobs: {jobId: ...}`` and
  each job is polled as an execution; FAIL and ERROR are the failing outcomes.
- SpotQA's report extractor (``spotqa/execution_screenshots`` ``main.py``):
  ``GET /testsuites/execution?jobId=&envelope=false`` answers ``journeys`` → ``lastExecution.report``
  → ``checkpoints`` → ``steps`` with a per-step ``outcome``.

Every model here parses *tolerantly*: a field of an unexpected type reads as missing, unknown fields
and unknown values (a status Virtuoso adds tomorrow) are kept. An answer to a request that started a
run must never turn into an error for the caller, who would start the run again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from virtuoso_api.virtuoso.models import VirtuosoModel

#: Statuses after which an execution no longer changes (American spelling: CANCELED, one L).
TERMINAL_STATUSES = frozenset({"FINISHED", "CANCELED", "FAILED"})
#: Outcomes that mean the tests failed (SpotQA's CI script: ``failed_outcome = ['FAIL', 'ERROR']``).
FAILING_OUTCOMES = frozenset({"FAIL", "ERROR"})
#: The outcomes ``journeyStatistics.countPerOutcome`` counts, in the captured answer's order.
OUTCOMES = ("PASS", "FAIL", "ERROR", "SKIP", "NOT_REACHED", "RUNNING")


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


def _epoch_ms(value: Any) -> Any:
    """Epoch milliseconds (as Virtuoso answers) or an ISO-8601 string, as an aware UTC datetime."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _epoch_ms(int(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


_LENIENT = WrapValidator(_or_none)
LenientInt = Annotated[int | None, _LENIENT]
LenientFloat = Annotated[float | None, _LENIENT]
LenientText = Annotated[str | None, _LENIENT]
#: A status or outcome: upper-cased, any value kept (an unknown one is not refused).
Word = Annotated[str | None, BeforeValidator(_upper), _LENIENT]
EpochMs = Annotated[datetime | None, BeforeValidator(_epoch_ms), _LENIENT]


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {
        str(key).upper(): int(count)
        for key, count in value.items()
        if isinstance(count, int | float) and not isinstance(count, bool)
    }


Counts = Annotated[dict[str, int], BeforeValidator(_counts)]


def _ints(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [int(item) for item in value if _is_id(item)]


def _is_id(item: Any) -> bool:
    if isinstance(item, bool):
        return False
    return isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit())


Ids = Annotated[list[int], BeforeValidator(_ints)]


def _object(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


JsonObject = Annotated[dict[str, Any], BeforeValidator(_object)]


class Tolerant(VirtuosoModel):
    """Keeps unknown fields (under their own names) instead of dropping them."""

    model_config = ConfigDict(extra="allow")


class Answer(Tolerant):
    """A whole answer of Virtuoso's, read with :meth:`read` (which never raises for an object) and
    kept as it came in :attr:`raw`."""

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def read(cls, data: Any) -> Self:
        """Parse an answer; anything that is not an object reads as an empty one (no id)."""
        raw = dict(data) if isinstance(data, Mapping) else {}
        answer = cls.model_validate(raw)
        answer._raw = raw
        return answer

    @property
    def raw(self) -> dict[str, Any]:
        """The answer as Virtuoso sent it (camelCase, every field)."""
        return self._raw


class JourneyStatistics(Tolerant):
    count_per_outcome: Counts = Field(default_factory=dict)
    outcome: Word = None
    progress: LenientFloat = None
    total_count: LenientInt = None
    total_duration: LenientInt = None


def _mapping(value: Any) -> Any:
    return value if isinstance(value, Mapping) else {}


class ExecutionMeta(Tolerant):
    kind: LenientText = None
    test_suite_ids: Ids = Field(default_factory=list)
    execution_request: JsonObject = Field(default_factory=dict)


class Execution(Answer):
    """One execution (Virtuoso also calls it a job): what ``/executions/{id}/status`` answers.

    Read with :meth:`read`, which never raises for an object: ``id`` is ``None`` when Virtuoso's answer
    named none (the run may still have started), and :attr:`raw` is the answer as Virtuoso sent it.
    """

    id: LenientInt = None
    type: LenientText = None
    trigger_type: LenientText = None
    goal_id: LenientInt = None
    snapshot_id: LenientInt = None
    environment_id: LenientInt = None
    plan_id: LenientInt = None
    submit_date: EpochMs = None
    start_date: EpochMs = None
    end_date: EpochMs = None
    status: Word = None
    outcome: Word = None
    progress: LenientFloat = None
    duration: LenientInt = None  # milliseconds (14525 for a run from 1721125752277 to ...66802)
    tags: Annotated[list[Any], BeforeValidator(lambda v: v if isinstance(v, list) else [])] = Field(
        default_factory=list
    )
    launched_by: LenientInt = None
    journey_statistics: Annotated[JourneyStatistics, BeforeValidator(_mapping)] = Field(
        default_factory=JourneyStatistics
    )
    total_test_executions: LenientInt = None
    successful_test_executions: LenientInt = None
    failed_test_executions: LenientInt = None
    skipped_test_executions: LenientInt = None
    not_reached_test_executions: LenientInt = None
    meta: Annotated[ExecutionMeta, BeforeValidator(_mapping)] = Field(default_factory=ExecutionMeta)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def tests_failed(self) -> bool:
        return self.outcome in FAILING_OUTCOMES


class PlanExecution(Answer):
    """What starting a plan answers (``POST /plans/executions/{planId}/execute``): ``jobs`` holds one
    entry per run it started, keyed by the job (= execution) id. Its ``id``, ``status`` and ``outcome``
    and the plan-status answer (``GET /plans/executions/status/{id}``) come from the evidence's list of
    endpoints only: their shape is unverified, so every field is optional."""

    id: LenientInt = None
    plan_id: LenientInt = None
    status: Word = None
    outcome: Word = None
    jobs: JsonObject = Field(default_factory=dict)

    @property
    def job_ids(self) -> list[int]:
        """The started runs' ids, in order: the keys of ``jobs`` (SpotQA's client takes the first
        key), or each entry's own ``id`` when a key is not a number."""
        found: list[int] = []
        for key, job in self.jobs.items():
            if _is_id(key):
                found.append(int(key))
            elif isinstance(job, Mapping) and _is_id(job.get("id")):
                found.append(int(job["id"]))
        return sorted(set(found), key=found.index)

    def job(self, job_id: int) -> Execution:
        """The plan's own view of one job (may be partial): an :class:`Execution`."""
        entry = self.jobs.get(str(job_id))
        return Execution.read(entry if isinstance(entry, Mapping) else {"id": job_id})


class StepReport(Tolerant):
    step_id: LenientInt = None
    outcome: Word = None
    duration: LenientInt = None
    screenshot: LenientText = None
    before_screenshot: LenientText = None
    error: LenientText = None  # the sandbox's; the evidence shows no message field


class JourneyReport(Tolerant):
    """One journey of a report: ``journey`` (id, title, ...) and its checkpoints' step outcomes."""

    id: LenientInt = None
    title: LenientText = None
    name: LenientText = None
    outcome: Word = None
    checkpoints: dict[str, list[StepReport]] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.title or self.name or f"journey {self.id}"

    @property
    def steps(self) -> list[StepReport]:
        return [step for steps in self.checkpoints.values() for step in steps]

    @property
    def derived_outcome(self) -> str | None:
        """Virtuoso's outcome for the journey if it gave one, else what its steps say."""
        if self.outcome:
            return self.outcome
        outcomes = {step.outcome for step in self.steps}
        for worst in ("ERROR", "FAIL", "RUNNING"):
            if worst in outcomes:
                return worst
        if "PASS" in outcomes:
            return "PASS"
        return "SKIP" if outcomes else None


class ExecutionReport(Tolerant):
    """``GET /testsuites/execution?jobId=`` (SpotQA's ``execution_screenshots``), flattened."""

    journeys: list[JourneyReport] = Field(default_factory=list)
    outcome: Word = None
    total_duration: LenientInt = None

    @classmethod
    def read(cls, data: Any) -> ExecutionReport:
        body = data if isinstance(data, Mapping) else {}
        statistics = _object(body.get("journeyStatistics"))
        return cls(
            journeys=[_journey_report(entry) for entry in _entries(body.get("journeys"))],
            outcome=statistics.get("outcome"),
            total_duration=statistics.get("totalDuration"),
        )


def _entries(value: Any) -> Iterable[Mapping[str, Any]]:
    """The objects of a map keyed by id (Virtuoso's usual shape) or of a list."""
    values = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else []
    return [entry for entry in values if isinstance(entry, Mapping)]


def _journey_report(entry: Mapping[str, Any]) -> JourneyReport:
    journey = _object(entry.get("journey"))
    last = _object(entry.get("lastExecution"))
    checkpoints = _object(_object(last.get("report")).get("checkpoints"))
    return JourneyReport.model_validate(
        {
            "id": journey.get("id"),
            "title": journey.get("title"),
            "name": journey.get("name"),
            "outcome": last.get("outcome"),
            "checkpoints": {
                str(key): [
                    StepReport.model_validate(step) for step in _entries(_object(checkpoint).get("steps"))
                ]
                for key, checkpoint in checkpoints.items()
            },
        }
    )
