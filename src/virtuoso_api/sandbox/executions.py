"""Executions that progress with the clock, computed on every read (no background task).

The lifecycle is Virtuoso's, as the evidence shows it (``reference/virtuoso-evidence.md``): ``status``
QUEUED → RUNNING → FINISHED, with the tests' result in a separate ``outcome`` (PASS or FAIL); CANCELED
and FAILED (the run itself could not complete) come from the test controls (``routes_control.py``).
The answer has the captured shape (``executions_88715_status.json``): epoch-millisecond dates,
``progress`` from 0 to 1, ``duration`` in ms, ``journeyStatistics.countPerOutcome`` and the
``*TestExecutions`` counters.

Timeline: a run is QUEUED for two steps' time, then RUNNING while its steps finish one every
``step_seconds`` (journeys in id order, checkpoints and steps in order), then FINISHED.

Failure rule (deterministic, for tests and demos): a step fails when its ``value`` or one of its
selectors contains :data:`FAIL_MARKER` (``sandbox:fail``); the rest of that journey is NOT_REACHED and
the journey's outcome is FAIL; other journeys still run. A step with ``skip: true`` is SKIP and takes
no time. A run with a failed journey finishes with ``status: FINISHED, outcome: FAIL``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from virtuoso_api.sandbox.records import (
    ExecutionRecord,
    GoalRecord,
    JourneyRecord,
    PlannedJourney,
    PlannedStep,
    StepRecord,
)
from virtuoso_api.sandbox.state import SandboxState

FAIL_MARKER = "sandbox:fail"
OUTCOMES = ("NOT_REACHED", "PASS", "FAIL", "ERROR", "SKIP", "RUNNING")


def fails(step: StepRecord) -> bool:
    selectors = (step.target or {}).get("selectors") or []
    values = [str(selector.get("value", "")) for selector in selectors if isinstance(selector, dict)]
    return any(FAIL_MARKER in text for text in [step.value, *values])


def start_execution(
    state: SandboxState,
    goal: GoalRecord,
    journeys: Sequence[JourneyRecord],
    *,
    requested: Sequence[int] = (),
    tags: Sequence[str] = (),
    environment_id: int | None = None,
    plan_execution_id: int | None = None,
) -> ExecutionRecord:
    """Fix the run (what runs, what fails, when each step finishes) at the moment it is submitted."""
    queued = 2 * state.step_seconds
    elapsed = queued
    planned: list[PlannedStep] = []
    for journey in journeys:
        broken = False
        for checkpoint_id in journey.checkpoint_ids:
            checkpoint = state.checkpoints[checkpoint_id]
            for step in state.steps_of(checkpoint):
                error = None
                if broken:
                    outcome = "NOT_REACHED"
                elif step.skip:
                    outcome = "SKIP"
                else:
                    elapsed += state.step_seconds
                    broken = fails(step)
                    outcome = "FAIL" if broken else "PASS"
                    if broken:
                        error = f"{step.action} failed: the step carries the marker {FAIL_MARKER!r}"
                planned.append(
                    PlannedStep(
                        step_id=step.id,
                        checkpoint_id=checkpoint_id,
                        checkpoint_key=checkpoint.canonical_id,
                        journey_id=journey.id,
                        action=step.action,
                        outcome=outcome,
                        done_after=elapsed,
                        error=error,
                    )
                )
    record = ExecutionRecord(
        id=state.new_id(),
        goal_id=goal.id,
        snapshot_id=goal.snapshot_id,
        environment_id=environment_id,
        tags=list(tags),
        requested_suite_ids=list(requested),
        submitted_at=state.now(),
        queued_seconds=queued,
        journeys=tuple(
            PlannedJourney(journey.id, journey.name, journey.title, journey.canonical_id)
            for journey in journeys
        ),
        plan=tuple(planned),
        finishes_after=elapsed,
        trigger_type="API",
        plan_execution_id=plan_execution_id,
    )
    state.executions[record.id] = record
    return record


def stop_execution(state: SandboxState, record: ExecutionRecord, status: str) -> None:
    """CANCELED or FAILED now, unless it has already ended (a finished run stays as it finished)."""
    if Moment(record, state.now()).terminal:
        return
    record.stopped_at = state.now()
    record.stopped_as = status


class Moment:
    """What an execution looks like at one instant."""

    def __init__(self, record: ExecutionRecord, now: datetime) -> None:
        self.record = record
        if record.stopped_at is not None and now > record.stopped_at:
            now = record.stopped_at
        self.elapsed = max(0.0, (now - record.submitted_at).total_seconds())
        self.running = self.elapsed >= record.queued_seconds
        self.finished = self.running and self.elapsed >= record.finishes_after
        self.done = {
            step.step_id: step for step in record.plan if self.running and step.done_after <= self.elapsed
        }

    @property
    def status(self) -> str:
        if self.record.stopped_as is not None:
            return self.record.stopped_as
        if self.finished:
            return "FINISHED"
        return "RUNNING" if self.running else "QUEUED"

    @property
    def terminal(self) -> bool:
        return self.status in {"FINISHED", "CANCELED", "FAILED"}

    def journey_outcome(self, journey_id: int) -> str | None:
        """PASS or FAIL once its steps are done; RUNNING while it runs; NOT_REACHED when the run
        stopped before it ended; ``None`` before it starts."""
        steps = [step for step in self.record.plan if step.journey_id == journey_id]
        done = [step for step in steps if step.step_id in self.done]
        if any(step.outcome == "FAIL" for step in done):
            return "FAIL"
        if len(done) == len(steps) and self.running:
            return "PASS" if any(step.outcome == "PASS" for step in steps) else "SKIP"
        if self.record.stopped_as is not None:
            return "NOT_REACHED"
        if done or self._current_journey() == journey_id:
            return "RUNNING"
        return None

    def _current_journey(self) -> int | None:
        pending = [step for step in self.record.plan if step.step_id not in self.done]
        return pending[0].journey_id if pending and self.running else None

    @property
    def outcome(self) -> str | None:
        """Only a run that ended has an outcome: ERROR when it failed to complete, FAIL when a
        journey failed, PASS otherwise (a CANCELED run keeps FAIL if a journey had already failed)."""
        if self.record.stopped_as == "FAILED":
            return "ERROR"
        journeys = [self.journey_outcome(journey.id) for journey in self.record.journeys]
        if "FAIL" in journeys:
            return "FAIL" if self.terminal else None
        if self.finished and self.record.stopped_as is None:
            return "PASS"
        return None

    @property
    def end(self) -> datetime | None:
        if self.record.stopped_at is not None:
            return self.record.stopped_at
        if self.finished:
            return self.record.submitted_at + timedelta(seconds=self.record.finishes_after)
        return None


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def execution_json(state: SandboxState, record: ExecutionRecord) -> dict[str, Any]:
    """The status answer (``GET /executions/{id}/status``), in the captured shape."""
    moment = Moment(record, state.now())
    per_journey = [moment.journey_outcome(journey.id) for journey in record.journeys]
    counts = {outcome: per_journey.count(outcome) for outcome in OUTCOMES}
    total_steps = len(record.plan)
    progress = round(len(moment.done) / total_steps, 4) if total_steps else (1.0 if moment.finished else 0.0)
    start = _ms(record.submitted_at + timedelta(seconds=record.queued_seconds)) if moment.running else None
    end = _ms(moment.end)
    outcome = moment.outcome
    return {
        "id": record.id,
        "type": "EXECUTION",
        "triggerType": record.trigger_type,
        "snapshotId": record.snapshot_id,
        "goalId": record.goal_id,
        "environmentId": record.environment_id,
        "submitDate": _ms(record.submitted_at),
        "startDate": start,
        "endDate": end,
        "status": moment.status,
        "duration": end - start if end is not None and start is not None else None,
        "meta": {
            "kind": "EXECUTION",
            "testSuiteIds": [journey.id for journey in record.journeys],
            "executionRequest": {
                "suiteIds": record.requested_suite_ids,
                "environmentId": record.environment_id,
                "dataDriven": False,
                "testSuiteCanonicalIds": [journey.canonical_id for journey in record.journeys],
            },
            "sandbox": True,
        },
        "tags": record.tags,
        "launchedBy": None,
        "journeyStatistics": {
            "countPerOutcome": counts,
            "outcome": outcome,
            "progress": round(sum(1 for o in per_journey if o not in (None, "RUNNING")) / len(per_journey), 4)
            if per_journey
            else progress,
            "totalCount": len(record.journeys),
        },
        "outcome": outcome,
        "progress": progress,
        "totalTestExecutions": len(record.journeys),
        "successfulTestExecutions": counts["PASS"],
        "skippedTestExecutions": counts["SKIP"],
        "failedTestExecutions": counts["FAIL"] + counts["ERROR"],
        "notReachedTestExecutions": counts["NOT_REACHED"],
    }


def report_json(state: SandboxState, record: ExecutionRecord) -> dict[str, Any]:
    """``GET /testsuites/execution?jobId=``: per journey, the outcome of each step the run reached
    (the shape SpotQA's ``execution_screenshots`` reads; ``duration`` and ``error`` are the sandbox's)."""
    moment = Moment(record, state.now())
    status = execution_json(state, record)
    journeys: dict[str, Any] = {}
    for journey in record.journeys:
        checkpoints: dict[str, Any] = {}
        for step in record.plan:
            if step.journey_id != journey.id:
                continue
            steps = checkpoints.setdefault(step.checkpoint_key, {"steps": {}})["steps"]
            outcome = moment.done[step.step_id].outcome if step.step_id in moment.done else None
            if outcome is None and record.stopped_as is not None:
                outcome = "NOT_REACHED"
            if outcome is None:
                continue
            steps[str(step.step_id)] = {
                "stepId": step.step_id,
                "outcome": outcome,
                "duration": int(state.step_seconds * 1000) if outcome in ("PASS", "FAIL") else 0,
                "screenshot": None,
                "beforeScreenshot": None,
                "error": step.error,
            }
        journeys[str(journey.id)] = {
            "journey": {
                "id": journey.id,
                "name": journey.name,
                "title": journey.title,
                "goalId": record.goal_id,
                "snapshotId": record.snapshot_id,
                "canonicalId": journey.canonical_id,
            },
            "lastExecution": {
                "job": {"id": record.id, "submitDate": status["submitDate"]},
                "outcome": moment.journey_outcome(journey.id),
                "report": {"checkpoints": checkpoints},
            },
        }
    statistics = {**status["journeyStatistics"], "totalDuration": status["duration"]}
    return {"journeys": journeys, "journeyStatistics": statistics}


def analysis_json(state: SandboxState, record: ExecutionRecord, *, include_ai: bool) -> dict[str, Any]:
    """``GET /executions/analysis/{id}`` in the original system's shape (UNVERIFIED endpoint)."""
    moment = Moment(record, state.now())
    done = list(moment.done.values())
    passed = [step for step in done if step.outcome == "PASS"]
    failed = [step for step in done if step.outcome == "FAIL"]
    skipped = [step for step in done if step.outcome in ("SKIP", "NOT_REACHED")]
    outcomes = [moment.journey_outcome(journey.id) for journey in record.journeys]
    names = {journey.id: journey.name for journey in record.journeys}
    ran = len(passed) + len(failed)
    step_ms = state.step_seconds * 1000 if ran else None
    end, submitted = _ms(moment.end), _ms(record.submitted_at)
    return {
        "executionId": record.id,
        "summary": {
            "totalSteps": len(record.plan),
            "passedSteps": len(passed),
            "failedSteps": len(failed),
            "skippedSteps": len(skipped),
            "successRate": round(100.0 * len(passed) / ran, 2) if ran else 0.0,
            "duration": end - submitted if end is not None and submitted is not None else None,
            "totalJourneys": len(record.journeys),
            "passedJourneys": outcomes.count("PASS"),
            "failedJourneys": outcomes.count("FAIL"),
        },
        "failures": [
            {
                "stepId": step.step_id,
                "journeyName": names[step.journey_id],
                "checkpointId": step.checkpoint_id,
                "action": step.action,
                "error": step.error,
                "screenshot": None,
                "aiSuggestion": f"remove {FAIL_MARKER!r} from the step" if include_ai else None,
                "timestamp": None,
            }
            for step in failed
        ],
        "performance": {
            "averageStepTime": step_ms,
            "slowestStepTime": step_ms,
            "fastestStepTime": step_ms,
            "networkRequests": 0,
            "javascriptErrors": 0,
            "pageLoadTime": None,
        },
        "aiInsights": [],
        "meta": {"sandbox": True, "includeAI": include_ai},
    }
