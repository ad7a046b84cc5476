"""What a job tells the events bus: ``job.started`` once, then one of ``job.completed``, ``job.failed``
or ``job.cancelled``, each carrying the job's id as its correlation id.

Each event has an id derived from the job and the moment (``job:<id>:started``, ``job:<id>:ended``),
so publishing it again (a redelivered task after a crash between the record and the publish, a cancel
racing the last attempt) is the same event: the local log and the journal keep it once, and a webhook
receives it once. A job ends once, whichever path ended it.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from virtuoso_api.events import EventPublisher, EventType
from virtuoso_api.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

#: A field of a job's result larger than this once encoded (a batch's ``results``) is left out of the
#: event: the job itself keeps it (``GET /api/v1/jobs/{id}``), and events stay small.
MAX_RESULT_FIELD_BYTES: Final = 4096

_ENDED: Final = {
    JobStatus.SUCCEEDED: EventType.JOB_COMPLETED,
    JobStatus.FAILED: EventType.JOB_FAILED,
    JobStatus.CANCELLED: EventType.JOB_CANCELLED,
}


class JobEvents:
    def __init__(self, events: EventPublisher) -> None:
        self._events = events

    async def started(self, job: Job) -> None:
        await self._publish(EventType.JOB_STARTED, job, "started")

    async def ended(self, job: Job) -> None:
        """The end of a finished job, from its record (what a reader of the job sees too)."""
        await self._publish(_ENDED[job.status], job, "ended")

    async def _publish(self, kind: EventType, job: Job, moment: str) -> None:
        data: dict[str, Any] = {"job_id": job.job_id, "kind": job.kind.value, "attempt": max(job.attempts, 1)}
        if kind is not EventType.JOB_STARTED:
            data |= {"result": summary_of(job.result), "error": job.error}
        try:
            await self._events.publish_or_log(
                kind,
                data,
                owner=job.owner,
                subject=f"job/{job.job_id}",
                correlation=job.job_id,
                dedupe_key=f"job:{job.job_id}:{moment}",
            )
        except Exception:  # an event that cannot be made (a bug) must never change what the job did
            logger.exception("job %s: its %s event could not be published", job.job_id, kind.value)


def summary_of(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """``result`` without its fields larger than :data:`MAX_RESULT_FIELD_BYTES`."""
    if result is None:
        return None
    return {
        name: value
        for name, value in result.items()
        if len(json.dumps(value, separators=(",", ":"), ensure_ascii=False)) <= MAX_RESULT_FIELD_BYTES
    }
