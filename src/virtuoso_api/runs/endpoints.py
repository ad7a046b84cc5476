"""``/api/v1/runs``: start runs on Virtuoso, follow one, list what this service started, JUnit XML.

Statuses are decided here: starting answers 202 (Virtuoso accepted the run; it goes on without us)
with ``Location`` pointing at the first run; ``?wait=`` on a run holds the answer until it ends or the
seconds pass, sharing one poll of Virtuoso with every other caller waiting on that run.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.errors import Forbidden
from virtuoso_api.history.models import Source
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import (
    BAD_CURSOR,
    FORBIDDEN,
    INVALID,
    JSON_BODY,
    OTHER_USER,
    UPSTREAM_REFUSED,
    declare,
    error,
)
from virtuoso_api.idempotency import OnceKey
from virtuoso_api.idempotency.deps import Idempotency, IdempotencyKey
from virtuoso_api.runs.models import RunPage, RunRequest, RunView, StartedRuns
from virtuoso_api.runs.service import RunService
from virtuoso_api.virtuoso.ids import MAX_ID

RUNS: Final = StateKey[RunService]("runs")
Runs = Annotated[RunService, Depends(RUNS.get)]

router = APIRouter(prefix="/runs", tags=["runs"])

_RUN_NOT_FOUND: Final = error(404, "Virtuoso has no such execution")
_FOLLOW: Final = declare(_RUN_NOT_FOUND, INVALID, UPSTREAM_REFUSED)

ExecutionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Virtuoso's execution (job) id")]
#: The longest a request may hold its answer for a run to end; longer waits belong to the CLI.
MAX_WAIT_SECONDS = 60

_STARTED: TypeAdapter[StartedRuns] = TypeAdapter(StartedRuns)


@router.post(
    "",
    status_code=202,
    response_model=StartedRuns,
    responses=declare(
        FORBIDDEN,
        JSON_BODY,
        error(404, "Virtuoso has no such goal, journey, snapshot or plan"),
        error(409, "A request with this Idempotency-Key is still running"),
        UPSTREAM_REFUSED,
    ),
)
async def start_run(
    body: RunRequest,
    runs: Runs,
    idempotency: Idempotency,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start a goal (all its journeys, or those named in `journeys`), one journey, or a plan (one run
    per job). 202 with the execution ids; follow each at `GET /api/v1/runs/{execution_id}`."""
    key = (
        None
        if idempotency_key is None
        else OnceKey(caller.user_id, "runs", idempotency_key, body.model_dump(mode="json"))
    )
    once = await idempotency.run_once(
        key, lambda: runs.start(caller, body, source=Source.HTTP), result_type=_STARTED
    )
    started = once.value
    headers = {"Idempotent-Replayed": "true"} if once.replayed else {}
    if started.execution_ids:
        headers["Location"] = f"/api/v1/runs/{started.execution_ids[0]}"
    return JSONResponse(started.model_dump(mode="json"), status_code=202, headers=headers)


@router.get(
    "",
    response_model=RunPage,
    responses=declare(
        BAD_CURSOR,
        OTHER_USER,
        INVALID,
    ),
)
async def list_runs(
    runs: Runs,
    caller: ReadAccess,
    goal_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    limit: int = Query(default=20, ge=1, le=200),
    cursor: str | None = Query(
        default=None, min_length=1, max_length=2000, description="The `next_cursor` of the previous page"
    ),
    user_id: str | None = Query(default=None, max_length=128, description="Another user's (admin scope)"),
) -> RunPage:
    """Runs this service started for the caller (from HTTP, the CLI or commands), newest first."""
    if user_id is not None and user_id != caller.user_id and not caller.allows(Scope.ADMIN):
        raise Forbidden("listing another user's runs needs the 'admin' scope")
    return await runs.list(user_id=user_id or caller.user_id, goal_id=goal_id, limit=limit, cursor=cursor)


@router.get("/{execution_id}", response_model=RunView, responses=_FOLLOW)
async def get_run(
    execution_id: ExecutionId,
    runs: Runs,
    _: ReadAccess,
    wait: float = Query(
        default=0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Hold the answer up to this many seconds for the run to end",
    ),
) -> RunView:
    """A run as Virtuoso reports it, normalised (`verdict`: passed, failed, incomplete or running),
    with Virtuoso's own answer under `virtuoso`."""
    if wait > 0:
        return await runs.wait(execution_id, timeout=wait)
    return await runs.status(execution_id)


@router.get(
    "/{execution_id}/junit",
    response_class=Response,
    responses=declare(
        {200: {"content": {"application/xml": {"schema": {"type": "string"}}}, "description": "JUnit XML"}},
        _FOLLOW,
    ),
)
async def run_junit(execution_id: ExecutionId, runs: Runs, _: ReadAccess) -> Response:
    """The run as JUnit XML: a test case per journey and per step its report has."""
    view = await runs.status(execution_id)
    return Response(await runs.junit([view]), media_type="application/xml")
