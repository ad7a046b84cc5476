"""``GET /api/v1/commands/history``: a caller's command history, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query

from virtuoso_api.api_keys.auth import ReadAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.errors import Forbidden
from virtuoso_api.history.models import HistoryFilters, HistoryPage
from virtuoso_api.history.service import HistoryService
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import BAD_CURSOR, INVALID, OTHER_USER, declare
from virtuoso_api.http.query import QueryFlag, QueryInstant
from virtuoso_api.virtuoso.ids import CheckpointIdFilter

HISTORY: Final = StateKey[HistoryService]("history")

router = APIRouter(prefix="/commands", tags=["commands"])


@router.get(
    "/history",
    response_model=HistoryPage,
    responses=declare(
        BAD_CURSOR,
        OTHER_USER,
        INVALID,
    ),
)
async def command_history(
    history: Annotated[HistoryService, Depends(HISTORY.get)],
    caller: ReadAccess,
    checkpoint_id: CheckpointIdFilter = None,
    session_id: str | None = Query(default=None, max_length=200),
    command: str | None = Query(default=None, max_length=100),
    success: QueryFlag | None = Query(default=None, description="true or false"),
    since: QueryInstant | None = Query(
        default=None, description="Entries at or after this RFC 3339 date-time (2026-01-31T09:00:00Z)"
    ),
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = Query(
        default=None,
        min_length=1,
        max_length=2000,
        description="The `next_cursor` of the previous page, as it was given",
    ),
    user_id: str | None = Query(default=None, max_length=128, description="Another user's (admin scope)"),
) -> HistoryPage:
    """Commands the caller executed (from HTTP, the CLI or queued tasks), newest first.

    Page on with the `next_cursor` of the previous answer."""
    if user_id is not None and user_id != caller.user_id and not caller.allows(Scope.ADMIN):
        raise Forbidden("reading another user's history needs the 'admin' scope")
    filters = HistoryFilters(
        user_id=user_id or caller.user_id,
        checkpoint_id=checkpoint_id,
        session_id=session_id,
        command=command,
        success=success,
        since=since,
    )
    return await history.query(filters, limit=limit, cursor=cursor)
