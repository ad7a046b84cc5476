"""Goal executions that progress with the clock, computed on every read (no background task).

Timeline: an execution is ``QUEUED`` for :data:`QUEUED_SECONDS`, then ``RUNNING`` while its steps finish
one every :data:`STEP_SECONDS` (journeys in id order, checkpoints and steps in order), then
``COMPLETED``, or ``FAILED`` if any step failed.

Failure rule (deterministic, for tests and demos): a step fails when its ``value`` or its element clue
contains :data:`FAIL_MARKER` (``sandbox:fail``). The rest of that journey is then ``SKIPPED``; other
journeys still run. A step with ``skip: true`` is ``SKIPPED`` and takes no time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.sandbox.records import ExecutionRecord, GoalRecord, PlannedStep, StepRecord
from virtuoso_api.sandbox.state import SandboxState

FAIL_MARKER = "sandbox:fail"
QUEUED_SECONDS = 1.0
STEP_SECONDS = 0.5


def fails(step: StepRecord) -> bool:
    clue = ""
    if step.target:
        selectors = step.target.get("selectors") or [{}]
        clue = str(selectors[0].get("value", ""))
    return FAIL_MARKER in step.value or FAIL_MARKER in clue


def start_execution(state: SandboxState, goal: GoalRecord) -> ExecutionRecord:
    """Fix the plan (what runs, what fails, when each step finishes) at the moment of starting."""
    journeys = [journey for journey in state.journeys_of(goal) if not journey.archived]
    plan: list[PlannedStep] = []
    elapsed = QUEUED_SECONDS
    for journey in journeys:
        broken = False
        for checkpoint_id in journey.checkpoint_ids:
            for step in state.steps_of(state.checkpoints[checkpoint_id]):
                error = None
                if broken or step.skip:
                    outcome = "SKIPPED"
                else:
                    elapsed += STEP_SECONDS
                    broken = fails(step)
                    outcome = "FAILED" if broken else "PASSED"
                    if broken:
                        error = f"{step.action} failed: the step carries the marker {FAIL_MARKER!r}"
                plan.append(
                    PlannedStep(
                        step_id=step.id,
                        checkpoint_id=checkpoint_id,
                        journey_id=journey.id,
                        journey_name=journey.name,
                        action=step.action,
                        outcome=outcome,
                        done_after=elapsed,
                        error=error,
                    )
                )
    record = ExecutionRecord(
        id=str(state.new_id()),
        goal_id=goal.id,
        snapshot_id=goal.snapshot_id,
        started_at=state.now(),
        journeys=tuple((journey.id, journey.name) for journey in journeys),
        plan=tuple(plan),
        finishes_after=elapsed,
    )
    state.executions[record.id] = record
    return record


class _Moment:
    """What an execution looks like at one instant."""

    def __init__(self, record: ExecutionRecord, now: datetime) -> None:
        self.record = record
        self.elapsed = max(0.0, (now - record.started_at).total_seconds())
        self.running = self.elapsed >= QUEUED_SECONDS
        self.finished = self.running and self.elapsed >= record.finishes_after
        self.done = [step for step in record.plan if self.running and step.done_after <= self.elapsed]
        self.failed = [step for step in self.done if step.outcome == "FAILED"]
        self.passed = [step for step in self.done if step.outcome == "PASSED"]
        self.skipped = [step for step in self.done if step.outcome == "SKIPPED"]

    @property
    def status(self) -> str:
        if self.finished:
            return "FAILED" if self.failed else "COMPLETED"
        return "RUNNING" if self.running else "QUEUED"

    @property
    def success_rate(self) -> float:
        ran = len(self.passed) + len(self.failed)
        if ran == 0:
            return 100.0 if self.finished else 0.0
        return round(100.0 * len(self.passed) / ran, 2)

    @property
    def duration_ms(self) -> int:
        return int(1000 * (self.record.finishes_after if self.finished else self.elapsed))

    def journey_done(self, journey_id: int) -> bool:
        done_ids = {step.step_id for step in self.done}
        steps = [step for step in self.record.plan if step.journey_id == journey_id]
        return self.running and all(step.step_id in done_ids for step in steps)

    def journey_failed(self, journey_id: int) -> bool:
        return any(step.journey_id == journey_id for step in self.failed)


def execution_json(record: ExecutionRecord, now: datetime) -> dict[str, Any]:
    moment = _Moment(record, now)
    done_ids = {step.step_id for step in moment.done}
    pending = [step for step in record.plan if step.step_id not in done_ids]
    total = len(record.plan)
    completed_journeys = sum(1 for journey_id, _ in record.journeys if moment.journey_done(journey_id))
    end = record.started_at + timedelta(seconds=record.finishes_after)
    return {
        "id": record.id,
        "goalId": record.goal_id,
        "snapshotId": record.snapshot_id,
        "status": moment.status,
        "startTime": format_timestamp(record.started_at),
        "endTime": format_timestamp(end) if moment.finished else None,
        "duration": moment.duration_ms,
        "progress": {
            "completedSteps": len(moment.done),
            "totalSteps": total,
            "completedJourneys": completed_journeys,
            "totalJourneys": len(record.journeys),
            "currentJourney": pending[0].journey_name if pending and moment.running else None,
            "successRate": moment.success_rate,
            "failedSteps": len(moment.failed),
            "percentComplete": round(100.0 * len(moment.done) / total, 2)
            if total
            else (100.0 if moment.finished else 0.0),
        },
        "resultsUrl": None,
        "reportUrl": None,
        "stepResults": [
            {
                "stepId": step.step_id,
                "checkpointId": step.checkpoint_id,
                "journeyId": step.journey_id,
                "action": step.action,
                "status": step.outcome if step.step_id in done_ids else "PENDING",
                "error": step.error if step.step_id in done_ids else None,
            }
            for step in record.plan
        ],
        "meta": {"sandbox": True},
    }


def analysis_json(record: ExecutionRecord, now: datetime, *, include_ai: bool) -> dict[str, Any]:
    """The analysis so far (complete once the execution has finished)."""
    moment = _Moment(record, now)
    finished_journeys = [j for j, _ in record.journeys if moment.journey_done(j)]
    failed_journeys = [j for j in finished_journeys if moment.journey_failed(j)]
    ran = len(moment.passed) + len(moment.failed)
    step_ms = STEP_SECONDS * 1000 if ran else None
    return {
        "executionId": record.id,
        "summary": {
            "totalSteps": len(record.plan),
            "passedSteps": len(moment.passed),
            "failedSteps": len(moment.failed),
            "skippedSteps": len(moment.skipped),
            "successRate": moment.success_rate,
            "duration": moment.duration_ms,
            "totalJourneys": len(record.journeys),
            "passedJourneys": len(finished_journeys) - len(failed_journeys),
            "failedJourneys": len(failed_journeys),
        },
        "failures": [
            {
                "stepId": step.step_id,
                "journeyName": step.journey_name,
                "checkpointId": step.checkpoint_id,
                "action": step.action,
                "error": step.error,
                "screenshot": None,
                "aiSuggestion": f"remove {FAIL_MARKER!r} from the step" if include_ai else None,
                "timestamp": format_timestamp(record.started_at + timedelta(seconds=step.done_after)),
            }
            for step in moment.failed
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
