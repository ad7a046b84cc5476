"""``/api/v1/runs``: start runs on Virtuoso, follow one, list what this service started, JUnit XML.

Statuses are decided here: starting answers 202 (Virtuoso accepted the run; it goes on without us)
with ``Location`` pointing at the first run; ``?wait=`` on a run holds the answer until it ends or the
seconds pass, sharing one poll of Virtuoso with every other caller waiting on that run.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.errors import Forbidden
from virtuoso_api.history.models import Source
from virtuoso_api.http.deps import ServicesDep
from virtuoso_api.http.openapi import CONFLICT, NOT_FOUND
from virtuoso_api.idempotency import HEADER, OnceKey
from virtuoso_api.runs.models import MAX_ID, RunPage, RunRequest, RunView, StartedRuns

router = APIRouter(prefix="/runs", tags=["runs"], responses={**NOT_FOUND, **CONFLICT})

IdempotencyKey = Annotated[
    str | None,
    Header(alias=HEADER, description="Send the same key when retrying: the run is started once"),
]
ExecutionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Virtuoso's execution (job) id")]
#: The longest a request may hold its answer for a run to end; longer waits belong to the CLI.
MAX_WAIT_SECONDS = 60

_STARTED: TypeAdapter[StartedRuns] = TypeAdapter(StartedRuns)


@router.post("", status_code=202, response_model=StartedRuns)
async def start_run(
    body: RunRequest, services: ServicesDep, caller: WriteAccess, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Start a goal (all its journeys, or those named in `journeys`), one journey, or a plan (one run
    per job). 202 with the execution ids; follow each at `GET /api/v1/runs/{execution_id}`."""
    key = (
        None
        if idempotency_key is None
        else OnceKey(caller.user_id, "runs", idempotency_key, body.model_dump(mode="json"))
    )
    once = await services.idempotency.run_once(
        key, lambda: services.runs.start(caller, body, source=Source.HTTP), result_type=_STARTED
    )
    started = once.value
    headers = {"Idempotent-Replayed": "true"} if once.replayed else {}
    if started.execution_ids:
        headers["Location"] = f"/api/v1/runs/{started.execution_ids[0]}"
    return JSONResponse(started.model_dump(mode="json"), status_code=202, headers=headers)


@router.get("", response_model=RunPage)
async def list_runs(
    services: ServicesDep,
    caller: ReadAccess,
    goal_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    limit: int = Query(default=20, ge=1, le=200),
    cursor: str | None = Query(default=None, max_length=2000),
    user_id: str | None = Query(default=None, max_length=128, description="Another user's (admin scope)"),
) -> RunPage:
    """Runs this service started for the caller (from HTTP, the CLI or commands), newest first."""
    if user_id is not None and user_id != caller.user_id and not caller.allows(Scope.ADMIN):
        raise Forbidden("listing another user's runs needs the 'admin' scope")
    return await services.runs.list(
        user_id=user_id or caller.user_id, goal_id=goal_id, limit=limit, cursor=cursor
    )


@router.get("/{execution_id}", response_model=RunView)
async def get_run(
    execution_id: ExecutionId,
    services: ServicesDep,
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
        return await services.runs.wait(execution_id, timeout=wait)
    return await services.runs.status(execution_id)


@router.get(
    "/{execution_id}/junit",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "JUnit XML"}},
)
async def run_junit(execution_id: ExecutionId, services: ServicesDep, _: ReadAccess) -> Response:
    """The run as JUnit XML: a test case per journey and per step its report has."""
    view = await services.runs.status(execution_id)
    return Response(await services.runs.junit([view]), media_type="application/xml")
