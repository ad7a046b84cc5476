"""``GET /api/v1/events/stream`` (Server-Sent Events) and ``GET /api/v1/events/types``.

The stream sends the caller's own events (an admin key: everyone's) as they are published, one SSE
message each: ``id`` is the event's id, ``event`` its type, ``data`` the CloudEvents JSON. A client
that reconnects with ``Last-Event-ID`` (browsers' ``EventSource`` does it by itself) gets every event
after that one, in order, from the journal; one the journal does not know is answered with an
``event: reset`` message, then new events. A comment line keeps idle connections open.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from virtuoso_api.api_keys.auth import ReadAccess
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.errors import InvalidInput
from virtuoso_api.events import EventType, describe_types
from virtuoso_api.events.service import EventsService
from virtuoso_api.events.stream import Reset
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import INVALID

EVENTS: Final = StateKey[EventsService]("events")

router = APIRouter(prefix="/events", tags=["events"])

_KEEPALIVE_SECONDS = 15


def parse_types(text: str | None) -> set[str]:
    """``command.executed,run.finished`` as a set; an unknown name is a 422 naming ``types``."""
    names = {part.strip() for part in (text or "").split(",") if part.strip()}
    known = {t.value for t in EventType}
    unknown = sorted(names - known)
    if unknown:
        raise InvalidInput(
            "types", f"unknown event type {unknown[0][:60]!r}; GET /api/v1/events/types lists them"
        )
    return names


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "One SSE message per event"},
        **INVALID,
    },
)
async def stream_events(
    request: Request,
    events: Annotated[EventsService, Depends(EVENTS.get)],
    caller: ReadAccess,
    types: str | None = Query(default=None, max_length=2000, description="comma-separated event types"),
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID", max_length=128),
) -> EventSourceResponse:
    """The caller's events as they happen (admin: everyone's), filtered by `types` if given."""
    wanted = parse_types(types)
    owner = None if caller.allows(Scope.ADMIN) else caller.user_id
    follow = events.follow(owner=owner, types=wanted, after_id=last_event_id or None)

    async def messages() -> AsyncIterator[dict[str, Any]]:
        async for item in follow:
            if await request.is_disconnected():
                return
            if isinstance(item, Reset):
                reason = {
                    "unknown_id": item.unknown_id,
                    "message": "unknown Last-Event-ID; events follow from now",
                }
                yield {"event": "reset", "data": json.dumps(reason)}
                continue
            data = item.message.data.decode()
            yield {
                "id": item.message.id,
                "event": item.message.attributes.get("type", "message"),
                "data": data,
            }

    return EventSourceResponse(messages(), ping=_KEEPALIVE_SECONDS)


@router.get("/types")
async def event_types(_: ReadAccess) -> dict[str, Any]:
    """Every event type with its data schema's version and JSON Schema."""
    types = describe_types()
    return {"types": types, "count": len(types)}
