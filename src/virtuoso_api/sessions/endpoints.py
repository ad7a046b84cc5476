"""``/api/v1/sessions``: a caller's sessions. Each caller sees only its own; anyone else's is a 404."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Response, status

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.errors import NotFound
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import FORBIDDEN, JSON_BODY, declare, error
from virtuoso_api.sessions.models import SessionCreate, SessionUpdate, SessionView
from virtuoso_api.sessions.service import SessionService

SESSIONS: Final = StateKey[SessionService]("sessions")
Sessions = Annotated[SessionService, Depends(SESSIONS.get)]

router = APIRouter(prefix="/sessions", tags=["sessions"])

_NOT_FOUND = error(404, "No such session: never made, expired, or another caller's")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionView,
    responses=declare(FORBIDDEN, JSON_BODY),
)
async def create_session(body: SessionCreate, sessions: Sessions, caller: WriteAccess) -> SessionView:
    """Start a session on a checkpoint. With ``activate``, commands without a checkpoint go to it."""
    return await sessions.create(
        caller.user_id,
        checkpoint_id=body.checkpoint_id,
        name=body.name,
        metadata=body.metadata,
        activate=body.activate,
    )


@router.get("", response_model=list[SessionView])
async def list_sessions(sessions: Sessions, caller: ReadAccess) -> list[SessionView]:
    """The caller's live sessions, newest first."""
    return await sessions.list(caller.user_id)


# Declared before /{session_id}: the original declared it after, so "current" was taken for an id.
@router.get(
    "/current",
    response_model=SessionView,
    responses=error(404, "The caller has no active session"),
)
async def current_session(sessions: Sessions, caller: ReadAccess) -> SessionView:
    """The caller's active session; 404 when there is none."""
    session = await sessions.current(caller.user_id)
    if session is None:
        raise NotFound("no active session; activate one with POST /api/v1/sessions/{id}/activate")
    return session


@router.get("/{session_id}", response_model=SessionView, responses=_NOT_FOUND)
async def get_session(session_id: str, sessions: Sessions, caller: ReadAccess) -> SessionView:
    return await sessions.get(caller.user_id, session_id)


@router.patch(
    "/{session_id}", response_model=SessionView, responses=declare(FORBIDDEN, _NOT_FOUND, JSON_BODY)
)
async def update_session(
    session_id: str, body: SessionUpdate, sessions: Sessions, caller: WriteAccess
) -> SessionView:
    """Change the checkpoint, name or metadata (only the fields sent)."""
    return await sessions.update(caller.user_id, session_id, changes=body.changes())


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=declare(FORBIDDEN, _NOT_FOUND),
)
async def delete_session(session_id: str, sessions: Sessions, caller: WriteAccess) -> Response:
    await sessions.delete(caller.user_id, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{session_id}/activate", response_model=SessionView, responses=declare(FORBIDDEN, _NOT_FOUND))
async def activate_session(session_id: str, sessions: Sessions, caller: WriteAccess) -> SessionView:
    """Make this the caller's active session."""
    return await sessions.activate(caller.user_id, session_id)
