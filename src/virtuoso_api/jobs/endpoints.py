"""``/api/v1/commands/async``, ``/api/v1/commands/batch/async`` and ``/api/v1/jobs``.

An async route answers 202 with the job id and a ``Location`` once the job is durably recorded and
its task enqueued (or, with Cloud Tasks unreachable, waiting in the outbox). A caller sees its own
jobs; an admin sees everyone's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from virtuoso_api.api_keys.auth import AdminAccess, ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.commands.endpoints import IdempotencyKey, status_of
from virtuoso_api.commands.models import BatchItem
from virtuoso_api.errors import InvalidInput
from virtuoso_api.http.deps import ServicesDep
from virtuoso_api.http.openapi import CONFLICT, NOT_FOUND, Responses
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

router = APIRouter(tags=["jobs"], responses={**NOT_FOUND, **CONFLICT})

_ACCEPTED: Responses = {202: {"description": "Accepted: follow the job at `Location`", "model": JobAccepted}}


def _accepted(accepted: JobAccepted, replayed: bool) -> JSONResponse:
    headers = {"Location": accepted.location}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)


@router.post("/commands/async", status_code=202, response_model=JobAccepted, responses=_ACCEPTED)
async def submit_command(
    body: AsyncCommandRequest,
    services: ServicesDep,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run one command in the background. The command is checked now (422 naming what is wrong);
    the same `Idempotency-Key` is the same job."""
    accepted, replayed = await services.jobs.submit_command(caller, body, key=idempotency_key)
    return _accepted(accepted, replayed)


@router.post("/commands/batch/async", status_code=202, response_model=JobAccepted, responses=_ACCEPTED)
async def submit_batch(
    body: AsyncBatchRequest,
    services: ServicesDep,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run commands in the background, in order or (``parallel``) one checkpoint at a time each.
    Every command is checked now; the job's result has one item per command, as the batch route."""
    accepted, replayed = await services.jobs.submit_batch(caller, body, key=idempotency_key)
    return _accepted(accepted, replayed)


@router.get("/jobs", response_model=JobPage)
async def list_jobs(
    services: ServicesDep,
    caller: ReadAccess,
    status: JobStatus | None = None,
    kind: JobKind | None = None,
    cursor: Annotated[str | None, Query(max_length=32_768)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    user_id: Annotated[str | None, Query(description="Admins only: another user's jobs")] = None,
) -> JobPage:
    """The caller's jobs, newest first (an admin sees everyone's, or ``user_id``'s)."""
    if caller.allows(Scope.ADMIN):
        owner = user_id
    elif user_id is not None and user_id != caller.user_id:
        raise InvalidInput("user_id", "only an admin key may list another user's jobs")
    else:
        owner = caller.user_id
    page = await services.jobs.list(owner=owner, status=status, kind=kind, limit=limit, cursor=cursor)
    return JobPage(jobs=[_with_status_codes(job) for job in page.jobs], next_cursor=page.next_cursor)


@router.get("/jobs/stats", response_model=JobStats)
async def job_stats(services: ServicesDep, _: AdminAccess) -> JobStats:
    """Queue depth (local queue) and jobs per status, for monitoring."""
    return await services.jobs.stats()


@router.get("/jobs/{job_id}", response_model=Job)
async def get_job(job_id: str, services: ServicesDep, caller: ReadAccess) -> Job:
    return _with_status_codes(await services.jobs.get(caller, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=Job)
async def cancel_job(job_id: str, services: ServicesDep, caller: WriteAccess) -> Job:
    """A queued job is cancelled at once; a running batch stops before its next command. 409 when
    the job has finished."""
    return _with_status_codes(await services.jobs.cancel(caller, job_id))


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
