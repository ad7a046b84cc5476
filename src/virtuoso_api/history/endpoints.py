"""``GET /api/v1/commands/history``: a caller's command history, newest first, a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query

from virtuoso_api.api_keys.auth import ReadAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.errors import Forbidden
from virtuoso_api.history.models import HistoryFilters, HistoryPage
from virtuoso_api.history.service import HistoryService
from virtuoso_api.http.deps import StateKey
from virtuoso_api.virtuoso.ids import parse_checkpoint_id

HISTORY: Final = StateKey[HistoryService]("history")

router = APIRouter(prefix="/commands", tags=["commands"])


@router.get("/history", response_model=HistoryPage)
async def command_history(
    history: Annotated[HistoryService, Depends(HISTORY.get)],
    caller: ReadAccess,
    checkpoint_id: str | None = Query(default=None, description="456 or cp_456"),
    session_id: str | None = Query(default=None, max_length=200),
    command: str | None = Query(default=None, max_length=100),
    success: bool | None = None,
    since: datetime | None = Query(default=None, description="ISO 8601; entries at or after it"),
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=2000),
    user_id: str | None = Query(default=None, max_length=128, description="Another user's (admin scope)"),
) -> HistoryPage:
    """Commands the caller executed (from HTTP, the CLI or queued tasks), newest first.

    Page on with the `next_cursor` of the previous answer."""
    if user_id is not None and user_id != caller.user_id and not caller.allows(Scope.ADMIN):
        raise Forbidden("reading another user's history needs the 'admin' scope")
    filters = HistoryFilters(
        user_id=user_id or caller.user_id,
        # An empty value (``?checkpoint_id=``, as a form leaves it) is the filter left out.
        checkpoint_id=parse_checkpoint_id(checkpoint_id) if checkpoint_id else None,
        session_id=session_id,
        command=command,
        success=success,
        since=since,
    )
    return await history.query(filters, limit=limit, cursor=cursor)
