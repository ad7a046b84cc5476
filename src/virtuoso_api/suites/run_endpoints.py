"""``POST /api/v1/suites/runs`` (a suite file run as a job), ``GET /api/v1/suites/runs/{id}`` (its
progress and results) and ``GET /api/v1/suites/runs/{id}/junit``.

A suite can take longer than any HTTP timeout, so it runs as a job of kind ``suite`` on the jobs
queue: the answer is 202 with the job, and ``Location`` names where to follow it. The file is parsed
before the job is written (422 listing every problem with its line). The same ``Idempotency-Key`` is
the same job.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import FORBIDDEN, JSON_BODY, declare, error
from virtuoso_api.idempotency.deps import IdempotencyKey
from virtuoso_api.jobs.models import JobAccepted
from virtuoso_api.suites.requests import SuiteRunRequest, SuiteRunView
from virtuoso_api.suites.service import SuiteService

SUITES: Final = StateKey[SuiteService]("suites")
Suites = Annotated[SuiteService, Depends(SUITES.get)]

router = APIRouter(prefix="/suites", tags=["suites"])

_NOT_FOUND: Final = error(404, "No such suite run, or another user's")


@router.post(
    "/runs",
    status_code=202,
    response_model=JobAccepted,
    responses=declare(
        {202: {"description": "Accepted: follow the job at `Location`", "model": JobAccepted}},
        FORBIDDEN,
        JSON_BODY,
        error(409, "A submission with this Idempotency-Key is still running"),
    ),
)
async def submit_suite_run(
    body: SuiteRunRequest,
    suites: Suites,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run a suite file as a job: find or create its project, goal, journey and checkpoints, add its
    steps in order, and with `execute` run the journey and wait for its outcome. The file is checked
    now (422 listing each problem with its line)."""
    accepted, replayed = await suites.submit(caller, body, key=idempotency_key)
    location = f"/api/v1/suites/runs/{accepted.job_id}"
    accepted = accepted.model_copy(update={"location": location})
    headers = {"Location": location}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)


@router.get("/runs/{run_id}", response_model=SuiteRunView, responses=_NOT_FOUND)
async def get_suite_run(run_id: str, suites: Suites, caller: ReadAccess) -> SuiteRunView:
    """The job (status, progress, attempts) and the stored result: where the steps went (ids and UI
    links), each step (line, command, position, step id, success or error) and the run's outcome."""
    return await suites.get(caller, run_id)


@router.get(
    "/runs/{run_id}/junit",
    response_class=Response,
    responses=declare(
        {200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "JUnit XML"}},
        _NOT_FOUND,
    ),
)
async def suite_run_junit(run_id: str, suites: Suites, caller: ReadAccess) -> Response:
    """The suite run as JUnit XML: a test case for the file, then one per journey (and step) of its run."""
    return Response(await suites.junit(caller, run_id), media_type="application/xml")
