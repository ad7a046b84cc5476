"""``/api/v1/commands/async``, ``/api/v1/commands/batch/async`` and ``/api/v1/jobs``.

An async route answers 202 with the job id and a ``Location`` once the job is durably recorded and
its task enqueued (or, with Cloud Tasks unreachable, waiting in the outbox). A caller sees its own
jobs; an admin sees everyone's.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from virtuoso_api.api_keys.auth import AdminAccess, ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.commands.endpoints import status_of
from virtuoso_api.commands.models import BatchItem
from virtuoso_api.errors import InvalidInput
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import BAD_CURSOR, FORBIDDEN, INVALID, JSON_BODY, Responses, declare, error
from virtuoso_api.idempotency.deps import IdempotencyKey
from virtuoso_api.jobs.models import (
    AsyncBatchRequest,
    AsyncCommandRequest,
    Job,
    JobAccepted,
    JobKind,
    JobPage,
    JobStats,
    JobStatus,
)
from virtuoso_api.jobs.service import JobService

JOBS: Final = StateKey[JobService]("jobs")
Jobs = Annotated[JobService, Depends(JOBS.get)]

router = APIRouter(tags=["jobs"])

_SUBMIT: Final[Responses] = declare(
    {202: {"description": "Accepted: follow the job at `Location`", "model": JobAccepted}},
    FORBIDDEN,
    JSON_BODY,
    error(409, "A submission with this Idempotency-Key is still running"),
)
_NOT_FOUND: Final = error(404, "No such job, or another user's")


def _accepted(accepted: JobAccepted, replayed: bool) -> JSONResponse:
    headers = {"Location": accepted.location}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)


@router.post("/commands/async", status_code=202, response_model=JobAccepted, responses=_SUBMIT)
async def submit_command(
    body: AsyncCommandRequest,
    jobs: Jobs,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run one command in the background. The command is checked now (422 naming what is wrong);
    the same `Idempotency-Key` is the same job."""
    accepted, replayed = await jobs.submit_command(caller, body, key=idempotency_key)
    return _accepted(accepted, replayed)


@router.post("/commands/batch/async", status_code=202, response_model=JobAccepted, responses=_SUBMIT)
async def submit_batch(
    body: AsyncBatchRequest,
    jobs: Jobs,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run commands in the background, in order or (``parallel``) one checkpoint at a time each.
    Every command is checked now; the job's result has one item per command, as the batch route."""
    accepted, replayed = await jobs.submit_batch(caller, body, key=idempotency_key)
    return _accepted(accepted, replayed)


@router.get(
    "/jobs",
    response_model=JobPage,
    responses=declare(BAD_CURSOR, INVALID),
)
async def list_jobs(
    jobs: Jobs,
    caller: ReadAccess,
    status: JobStatus | None = None,
    kind: JobKind | None = None,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=2000, description="The `next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    user_id: Annotated[
        str | None, Query(max_length=128, description="Admins only: another user's jobs")
    ] = None,
) -> JobPage:
    """The caller's jobs, newest first (an admin sees everyone's, or ``user_id``'s)."""
    if caller.allows(Scope.ADMIN):
        owner = user_id
    elif user_id is not None and user_id != caller.user_id:
        raise InvalidInput("user_id", "only an admin key may list another user's jobs")
    else:
        owner = caller.user_id
    page = await jobs.list(owner=owner, status=status, kind=kind, limit=limit, cursor=cursor)
    return JobPage(jobs=[_with_status_codes(job) for job in page.jobs], next_cursor=page.next_cursor)


@router.get("/jobs/stats", response_model=JobStats, responses=FORBIDDEN)
async def job_stats(jobs: Jobs, _: AdminAccess) -> JobStats:
    """Queue depth (local queue) and jobs per status, for monitoring."""
    return await jobs.stats()


@router.get("/jobs/{job_id}", response_model=Job, responses=_NOT_FOUND)
async def get_job(job_id: str, jobs: Jobs, caller: ReadAccess) -> Job:
    return _with_status_codes(await jobs.get(caller, job_id))


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=Job,
    responses=declare(FORBIDDEN, _NOT_FOUND, error(409, "The job has already finished")),
)
async def cancel_job(job_id: str, jobs: Jobs, caller: WriteAccess) -> Job:
    """A queued job is cancelled at once; a running batch stops before its next command. 409 when
    the job has finished."""
    return _with_status_codes(await jobs.cancel(caller, job_id))


def _with_status_codes(job: Job) -> Job:
    """Each batch item's ``status_code``: what that command alone would have answered (as the batch
    route says it)."""
    results = (job.result or {}).get("results") if job.kind is JobKind.BATCH else None
    if not results:
        return job
    for index, raw in enumerate(results):
        item = BatchItem.model_validate(raw)
        if item.outcome is not None:
            results[index]["status_code"] = status_of(item.outcome)
        elif item.error is not None:
            results[index]["status_code"] = int(item.error.get("status", 500))
    return job
