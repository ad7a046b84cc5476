"""``POST /internal/tasks/{kind}``: where Cloud Tasks delivers tasks (mounted only with
``USE_CLOUD_TASKS``; locally the dispatcher calls the handler in-process and this route does not exist).

Every push must carry Google's OIDC token for ``GCP_SERVICE_ACCOUNT_EMAIL`` with this route's URL as
its audience; it is checked before the body is read. The answer tells Cloud Tasks what to do: 2xx
when the job is done or has failed for good, 503 when it should try again (the queue's backoff).
The attempt number comes from ``X-CloudTasks-TaskRetryCount`` (retries so far, so attempt = count
+ 1); the queue's ``max_attempts`` is ``TASKS_MAX_ATTEMPTS`` (create the queues with it, README).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from virtuoso_api.errors import BadRequest, NotFound
from virtuoso_api.http.deps import ServicesDep
from virtuoso_api.infra.tasks import Delivery, Finished
from virtuoso_api.jobs.models import JobKind

router = APIRouter(prefix="/internal/tasks", include_in_schema=False)


@router.post("/{kind}")
async def deliver(kind: str, request: Request, services: ServicesDep) -> JSONResponse:
    tasks = services.tasks
    if tasks.verifier is None:  # mounted only in Cloud Tasks mode; never reachable without a check
        raise NotFound("no such route")
    await tasks.verifier.verify(request.headers.get("authorization"), audience=tasks.push_url(kind))
    if kind not in {k.value for k in JobKind}:
        raise NotFound(f"no task kind {kind!r:.40}")
    payload = _payload(await request.body())
    delivery = Delivery(
        name=request.headers.get("x-cloudtasks-taskname", ""),
        kind=kind,
        payload=payload,
        attempt=_count(request.headers.get("x-cloudtasks-taskretrycount")) + 1,
        max_attempts=tasks.retry.max_attempts,
        queue=request.headers.get("x-cloudtasks-queuename", ""),
    )
    outcome = await services.jobs.handle_task(delivery)
    if isinstance(outcome, Finished):
        return JSONResponse({"status": "finished", "note": outcome.note, "attempt": delivery.attempt})
    headers = {}
    if outcome.retry_after_seconds is not None:
        headers["Retry-After"] = str(int(outcome.retry_after_seconds))
    body = {"status": "retry", "error": outcome.error, "attempt": delivery.attempt}
    return JSONResponse(body, status_code=503, headers=headers)


def _payload(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("the task body is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("job_id"), str):
        raise BadRequest("the task body must be an object with a job_id")
    return payload


def _count(header: str | None) -> int:
    try:
        return max(0, int(header or 0))
    except ValueError:
        return 0
