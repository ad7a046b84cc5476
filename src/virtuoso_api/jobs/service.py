"""Jobs: work a caller hands over, recorded in the documents store, run by a task on a queue.

Submitting: the request is checked as the synchronous route would check it (every command parsed,
a 422 naming the bad one), the job is written (``queued``), its task is enqueued under the job's id
(a second enqueue of that name is a no-op) and the caller gets the job id. With an idempotency key
(``Idempotency-Key``, the facade's ``batch_id``) the job id comes from the key, so the same key is
the same job even if the first submission died half-way.

Running: :meth:`JobService.handle_task` is the task handler, called by the local dispatcher and by
``/internal/tasks/{kind}`` alike. It marks the job running, counts the attempt, runs the handler of
its kind (:mod:`handlers`) and records the result. "Not now" failures (Virtuoso or a store
unreachable, a command held by another attempt) ask for a retry, until the last attempt, which
fails the job with the last error. A job whose last attempt stopped without an answer (its process
died) is failed by a sweep. A delivery of a finished job changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind
from pydantic import TypeAdapter

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.commands.service import error_of, parse_commands
from virtuoso_api.commands.vocabulary import parse_command
from virtuoso_api.errors import BackendUnavailable, Conflict, NotFound, VirtuosoApiError
from virtuoso_api.events import EventPublisher
from virtuoso_api.idempotency import IdempotencyService, OnceKey
from virtuoso_api.infra.documents import (
    DocumentAlreadyExists,
    DocumentStore,
    Filter,
    Op,
    Query,
    query_page,
)
from virtuoso_api.infra.tasks import Delivery, Finished, NewTask, RetryLater, TaskOutcome, Tasks, queue_name
from virtuoso_api.jobs.events import JobEvents
from virtuoso_api.jobs.handlers import JobHandlers, JobResult
from virtuoso_api.jobs.models import (
    COLLECTION,
    JOB_ID,
    Job,
    JobAccepted,
    JobKind,
    JobPage,
    JobStatus,
    Progress,
)
from virtuoso_api.jobs.runner import JobRun, RunDeps
from virtuoso_api.jobs.stats import job_stats
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.correlation import correlation_id
from virtuoso_api.kit.ids import new_id
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.kit.redact import redact
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.telemetry import active, current_traceparent, span
from virtuoso_api.telemetry.propagation import mark_failed

if TYPE_CHECKING:
    from virtuoso_api.jobs.models import AsyncBatchRequest, AsyncCommandRequest, JobStats, Scheduling

logger = logging.getLogger(__name__)

#: Jobs are kept this long after they were submitted, then expire.
KEEP = timedelta(days=7)
#: A running job on its last attempt that shows no sign of life for this long is failed.
ABANDONED_AFTER = timedelta(minutes=31)
_SWEEP_EVERY_SECONDS = 60.0
_ACCEPTED: TypeAdapter[JobAccepted] = TypeAdapter(JobAccepted)


class JobService:
    def __init__(
        self,
        store: DocumentStore,
        *,
        tasks: Tasks,
        idempotency: IdempotencyService,
        handlers: JobHandlers,
        deps: RunDeps,
        clock: Clock,
        events: EventPublisher,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._idempotency = idempotency
        self.handlers = handlers
        self._deps = deps
        self._clock = clock
        self._events = JobEvents(events)

    def needs(self) -> Needs:
        sweep = PeriodicJob("fail abandoned jobs", _SWEEP_EVERY_SECONDS, self.fail_abandoned)
        return Needs(expiring_collections=(COLLECTION,), periodic=(sweep,))

    # -- submitting ------------------------------------------------------------------------------

    async def submit_command(
        self, caller: Principal, request: AsyncCommandRequest, *, key: str | None = None
    ) -> tuple[JobAccepted, bool]:
        """Queue one command; ``(accepted, replayed)``. The command is parsed now (422 if wrong)."""
        parse_command(request.command, request.args)
        return await self._submit(caller, JobKind.COMMAND, request, total=1, key=key)

    async def submit_batch(
        self, caller: Principal, request: AsyncBatchRequest, *, key: str | None = None
    ) -> tuple[JobAccepted, bool]:
        parse_commands(request.commands)
        return await self._submit(caller, JobKind.BATCH, request, total=len(request.commands), key=key)

    async def submit(
        self, caller: Principal, kind: JobKind, request: Scheduling, *, total: int, key: str | None
    ) -> tuple[JobAccepted, bool]:
        """Queue a job of a kind a domain above checks itself (``suite``: the suites domain has
        parsed the file); ``total`` is its progress's end."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for {kind} jobs is registered")
        return await self._submit(caller, kind, request, total=total, key=key)

    async def _submit(
        self, caller: Principal, kind: JobKind, request: Scheduling, *, total: int, key: str | None
    ) -> tuple[JobAccepted, bool]:
        body = request.model_dump(mode="json")
        once_key = None if key is None else OnceKey(caller.user_id, f"jobs/{kind}", key, body)
        job_id = new_id("job") if once_key is None else f"job_{once_key.doc_id[:24]}"
        # take_over: a submission whose process died is safe to resume (the job id comes from the key).
        once = await self._idempotency.run_once(
            once_key,
            lambda: self._create(caller, kind, job_id, body, request, total),
            result_type=_ACCEPTED,
            take_over=True,
        )
        return once.value, once.replayed

    async def _create(
        self,
        caller: Principal,
        kind: JobKind,
        job_id: str,
        body: dict[str, Any],
        scheduling: Scheduling,
        total: int,
    ) -> JobAccepted:
        now = self._clock.now()
        job = Job(
            job_id=job_id,
            kind=kind,
            owner=caller.user_id,
            key_id=caller.key_id or None,
            status=JobStatus.QUEUED,
            max_attempts=self._tasks.retry.max_attempts,
            progress=Progress(total=total),
            request=body,
            task_name=job_id,
            queue=queue_name(self._tasks.settings.tasks_queue_prefix, kind, scheduling.priority),
            created_at=now,
            updated_at=now,
        )
        try:
            await self._store.create(COLLECTION, job_id, job.model_dump(mode="json"), expires_at=now + KEEP)
        except DocumentAlreadyExists:  # an earlier submission with this key got this far
            job = await self._load(job_id)
        payload = {"job_id": job_id}
        if traceparent := current_traceparent():  # the handler's span continues the submitter's trace
            payload["traceparent"] = traceparent
        task = NewTask(
            name=job_id,
            kind=kind.value,
            payload=payload,
            priority=scheduling.priority,
            delay_seconds=scheduling.delay_seconds,
        )
        try:
            await self._tasks.enqueue(task)
        except BackendUnavailable:
            raise  # the local queue's disk: the caller retries with the same key, the same job
        except VirtuosoApiError as exc:  # the queue refuses it for good: say so on the job too
            await self._finish(job_id, JobResult(JobStatus.FAILED, error=error_of(exc)))
            raise
        return JobAccepted(
            job_id=job_id, kind=kind, status=job.status, task_name=job_id, location=f"/api/v1/jobs/{job_id}"
        )

    # -- reading and cancelling ------------------------------------------------------------------

    async def get(self, caller: Principal | None, job_id: str) -> Job:
        """The job, if ``caller`` owns it or is an admin (``None``: the operator's CLI)."""
        job = await self._find(job_id)
        if job is None or (
            caller is not None and job.owner != caller.user_id and not caller.allows(Scope.ADMIN)
        ):
            raise NotFound(_no_job(job_id))
        return job

    async def list(
        self,
        *,
        owner: str | None,
        status: JobStatus | None = None,
        kind: JobKind | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        """Jobs newest first; ``owner=None`` lists everyone's (admins, the CLI)."""
        filters = [
            Filter(name, Op.EQ, value.value if isinstance(value, JobStatus | JobKind) else value)
            for name, value in (("owner", owner), ("status", status), ("kind", kind))
            if value is not None
        ]
        query = Query(
            COLLECTION, tuple(filters), order_by="created_at", descending=True, limit=limit, cursor=cursor
        )
        page = await query_page(self._store, query)
        return JobPage(
            jobs=[Job.model_validate(d.data) for d in page.documents], next_cursor=page.next_cursor
        )

    async def cancel(self, caller: Principal | None, job_id: str) -> Job:
        """Ask a job to stop: a queued one is cancelled now, a running one stops before its next
        command. A finished job is a 409."""
        job = await self.get(caller, job_id)
        if job.status.finished:
            raise Conflict(f"job {job_id} has already {job.status.value}")
        now = format_timestamp(self._clock.now())
        # The request is written before the status, and the answer read from that write: an attempt
        # that starts the job meanwhile reads the request before it runs anything (handle_task,
        # JobRun.cancelled), so "cancelled" is never answered for work that then runs.
        document = await self._store.patch(COLLECTION, job_id, {"cancel_requested": True, "updated_at": now})
        job = Job.model_validate(document.data)
        if job.status.finished:
            raise Conflict(f"job {job_id} has already {job.status.value}")
        if job.status is JobStatus.QUEUED:
            changes = {"status": JobStatus.CANCELLED.value, "finished_at": now}
            job = Job.model_validate((await self._store.patch(COLLECTION, job_id, changes)).data)
            await self._events.ended(job)
        return job

    async def stats(self) -> JobStats:
        return await job_stats(self._store, self._tasks)

    # -- running ---------------------------------------------------------------------------------

    async def handle_task(self, delivery: Delivery) -> TaskOutcome:
        """The task handler (module docstring). Never raises: every failure is an outcome. What the
        job's commands and runs publish carries the job's id as its correlation id."""
        job_id = str(delivery.payload.get("job_id", ""))
        correlated = correlation_id.set(job_id)
        traceparent = delivery.payload.get("traceparent")
        try:
            with span(
                f"job {delivery.kind}",
                traceparent=traceparent if isinstance(traceparent, str) else None,
                kind=SpanKind.CONSUMER,
                attributes={"job.id": job_id, "job.attempt": delivery.attempt, "job.kind": delivery.kind},
            ) as current:
                outcome = await self._handle(job_id, delivery)
                if isinstance(outcome, RetryLater):
                    mark_failed(current, outcome.error)
                return outcome
        finally:
            correlation_id.reset(correlated)

    async def _handle(self, job_id: str, delivery: Delivery) -> TaskOutcome:
        try:
            job = await self._find(job_id)
            if job is None:
                return Finished(f"no job {job_id}: expired or never written")
            if job.status.finished:
                if job.attempts:
                    # Delivered again after an attempt that finished it: that attempt may have died
                    # before publishing its end. Published again, it is the same event (jobs/events.py).
                    await self._events.ended(job)
                return Finished(f"job {job_id} had already {job.status.value}")
            if job.cancel_requested and job.status is JobStatus.QUEUED:
                await self._finish(job_id, JobResult(JobStatus.CANCELLED))
                return Finished("cancelled before it started")
            job = await self._start(job, delivery)
            handler = self.handlers.get(job.kind)
            if handler is None:
                error = {"type": "unsupported", "message": f"this service runs no {job.kind.value} jobs yet"}
                await self._finish(job_id, JobResult(JobStatus.FAILED, error=error))
                return Finished(error["message"])
            result = await handler.run(JobRun(job, self._deps))
            await self._finish(job_id, result)
            return Finished(result.status.value)
        except Exception as exc:  # "not now", or a bug: another attempt, or the job fails for good
            return await self._attempt_failed(job_id, delivery, exc)

    async def _start(self, job: Job, delivery: Delivery) -> Job:
        now = format_timestamp(self._clock.now())
        changes: dict[str, Any] = {
            "status": JobStatus.RUNNING.value,
            "attempts": max(job.attempts + 1, delivery.attempt),
            "max_attempts": delivery.max_attempts,
            "updated_at": now,
        }
        if job.started_at is None:
            changes["started_at"] = now
            # Published before the record says so: an attempt that dies in between leaves the job
            # unstarted, and the next one publishes the same event again (jobs/events.py), never none.
            await self._events.started(job.model_copy(update={"attempts": changes["attempts"]}))
        document = await self._store.patch(COLLECTION, job.job_id, changes)
        return Job.model_validate(document.data)

    async def _attempt_failed(self, job_id: str, delivery: Delivery, exc: Exception) -> TaskOutcome:
        if not isinstance(exc, VirtuosoApiError):  # a bug, not "not now": the error log should show it
            context = {"job_id": job_id, "job_kind": delivery.kind, "attempt": delivery.attempt}
            active().report_error(exc, context, where="task")
        error = error_of(exc)
        message = redact(str(error.get("message", "")))
        try:
            if delivery.is_last:
                await self._finish(job_id, JobResult(JobStatus.FAILED, error=error))
                return Finished(f"failed after {delivery.attempt} attempts: {message}")
            await self._store.patch(
                COLLECTION, job_id, {"error": error, "updated_at": format_timestamp(self._clock.now())}
            )
        except VirtuosoApiError as store_error:  # the store is down: the next attempt records it
            logger.warning("job %s: could not record the failed attempt: %s", job_id, store_error.message)
        retry_after = 5.0 if isinstance(exc, BackendUnavailable) else None
        return RetryLater(message or type(exc).__name__, retry_after_seconds=retry_after)

    async def _finish(self, job_id: str, result: JobResult) -> None:
        now = format_timestamp(self._clock.now())
        changes: dict[str, Any] = {"status": result.status.value, "updated_at": now, "finished_at": now}
        if result.result is not None:
            changes["result"] = result.result
        if result.error is not None or result.status is JobStatus.SUCCEEDED:
            changes["error"] = result.error
        document = await self._store.patch(COLLECTION, job_id, changes)
        await self._events.ended(Job.model_validate(document.data))

    async def fail_abandoned(self) -> int:
        """Fail running jobs on their last attempt that have shown no sign of life for
        :data:`ABANDONED_AFTER` (the process running them died; no attempt follows)."""
        failed, cursor = 0, None
        horizon = self._clock.now() - ABANDONED_AFTER
        while True:
            page = await self._store.query(
                Query(
                    COLLECTION, (Filter("status", Op.EQ, JobStatus.RUNNING.value),), limit=200, cursor=cursor
                )
            )
            for document in page.documents:
                job = Job.model_validate(document.data)
                if job.attempts >= job.max_attempts and job.updated_at < horizon:
                    error = {
                        "type": "abandoned",
                        "message": f"attempt {job.attempts} of {job.max_attempts} stopped without finishing",
                    }
                    await self._finish(job.job_id, JobResult(JobStatus.FAILED, error=error))
                    failed += 1
            if (cursor := page.next_cursor) is None:
                return failed

    async def _find(self, job_id: str) -> Job | None:
        if not JOB_ID.fullmatch(job_id):
            return None
        document = await self._store.get(COLLECTION, job_id)
        return None if document is None else Job.model_validate(document.data)

    async def _load(self, job_id: str) -> Job:
        job = await self._find(job_id)
        if job is None:
            raise NotFound(_no_job(job_id))
        return job


def _no_job(job_id: str) -> str:
    """The 404's message: an id of another shape is quoted escaped and cut short (it is the
    caller's input, and may be long or hold control characters)."""
    if JOB_ID.fullmatch(job_id):
        return f"job {job_id} not found"
    shown = ascii(job_id[:40]) + ("..." if len(job_id) > 40 else "")
    return f"job {shown} not found: job ids look like job_5d2776f59ef2fc3e"
