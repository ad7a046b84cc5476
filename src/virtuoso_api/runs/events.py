"""What a run tells the events bus: ``run.started`` when Virtuoso started it, ``run.finished`` (with the
outcome) once, when this service first sees it end, whichever path saw it: a poll loop serving any
number of waiters, a status read, or the periodic settling of runs nobody waited on.

Each carries the run's owner and what caused its start (the request id, or the job id) as the
correlation id, and has an id derived from the run and the moment (``run:<id>:finished``), so the
paths that see one end at the same moment, or a process that died after publishing and before
recording, publish one event: the local log and the journal keep it once, and a webhook receives it
once.
"""

from __future__ import annotations

from typing import Any

from virtuoso_api.events import EventPublisher, EventType
from virtuoso_api.runs.models import RunRecord, RunView, StartedRun, StartedRuns


def outcome_of(view: RunView) -> str:
    """``run.finished``'s outcome: ``passed``, ``failed`` (the tests failed), ``error`` (a test or
    the run itself broke, or Virtuoso gave no verdict) or ``cancelled``."""
    if view.status == "CANCELED":
        return "cancelled"
    if view.status == "FINISHED" and view.outcome == "PASS":
        return "passed"
    if view.status == "FINISHED" and view.outcome == "FAIL":
        return "failed"
    return "error"


class RunEvents:
    def __init__(self, events: EventPublisher) -> None:
        self._events = events

    async def started(self, owner: str, started: StartedRuns, run: StartedRun) -> None:
        assert run.execution_id is not None
        data: dict[str, Any] = {
            "run_id": str(run.execution_id),
            "execution_id": str(run.execution_id),
            "kind": started.kind.value,
            "goal_id": run.goal_id,
            "journey_ids": started.journey_ids,
            "plan_id": started.plan_id,
            "status": run.status,
            "url": run.ui_url,
        }
        await self._publish(EventType.RUN_STARTED, data, owner, run.execution_id, "started", None)

    async def finished(self, record: RunRecord, view: RunView) -> None:
        data: dict[str, Any] = {
            "run_id": str(view.execution_id),
            "execution_id": str(view.execution_id),
            "outcome": outcome_of(view),
            "passed": _count(view.tests.passed),
            "failed": _count(view.tests.failed),
            "duration_ms": _count(view.duration_ms),
            "url": view.ui_url,
            "status": view.status,
            "virtuoso_outcome": view.outcome,
        }
        await self._publish(
            EventType.RUN_FINISHED, data, record.user_id, view.execution_id, "finished", record.correlation_id
        )

    async def _publish(
        self,
        kind: EventType,
        data: dict[str, Any],
        owner: str,
        execution_id: int,
        moment: str,
        correlation: str | None,
    ) -> None:
        await self._events.publish(
            kind,
            data,
            owner=owner,
            subject=f"run/{execution_id}",
            correlation=correlation,
            dedupe_key=f"run:{execution_id}:{moment}",
        )


def _count(value: int | None) -> int | None:
    """Virtuoso's number, when it is one the schema takes (read tolerantly, it may be anything)."""
    return value if value is not None and value >= 0 else None
