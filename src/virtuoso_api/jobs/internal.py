"""``POST /internal/tasks/{kind}``: where Cloud Tasks delivers tasks (mounted only with
``USE_CLOUD_TASKS``; locally the dispatcher calls the handler in-process and this route does not exist).

Every push must carry Google's OIDC token for ``GCP_SERVICE_ACCOUNT_EMAIL`` with this route's URL as
its audience; it is checked before the body is read. The push's headers and the answer (2xx when
the job is done or has failed for good, 503 to be tried again) follow Cloud Tasks' rules, kept in
:mod:`virtuoso_api.infra.tasks.push`; the queue's ``max_attempts`` is ``TASKS_MAX_ATTEMPTS`` (create
the queues with it, README).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from virtuoso_api.errors import BadRequest, NotFound
from virtuoso_api.http.deps import StateKey
from virtuoso_api.infra.tasks import Tasks, run_handler
from virtuoso_api.infra.tasks.push import answer_of, delivery_of, payload_of
from virtuoso_api.jobs.endpoints import Jobs
from virtuoso_api.jobs.models import JobKind

TASKS: Final = StateKey[Tasks]("tasks")

router = APIRouter(prefix="/internal/tasks", include_in_schema=False)


@router.post("/{kind}")
async def deliver(
    kind: str, request: Request, tasks: Annotated[Tasks, Depends(TASKS.get)], jobs: Jobs
) -> JSONResponse:
    if tasks.verifier is None:  # mounted only in Cloud Tasks mode; never reachable without a check
        raise NotFound("no such route")
    await tasks.verifier.verify(request.headers.get("authorization"), audience=tasks.push_url(kind))
    if kind not in {k.value for k in JobKind}:
        raise NotFound(f"no task kind {kind!r:.40}")
    payload = payload_of(await request.body())
    if not isinstance(payload.get("job_id"), str):
        raise BadRequest("the task body must be an object with a job_id")
    delivery = delivery_of(kind, request.headers, payload, max_attempts=tasks.retry.max_attempts)
    answer = answer_of(await run_handler(jobs.handle_task, delivery), delivery)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)
