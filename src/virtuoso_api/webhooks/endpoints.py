"""``/api/v1/webhooks``: a caller's webhooks, their delivery log, tests, and dead letters.

Each caller sees and changes only its own webhooks (anyone else's is a 404); an admin key reaches
every caller's, and the dead letters of all.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Response, status

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import BAD_CURSOR, FORBIDDEN, INVALID, JSON_BODY, declare, error
from virtuoso_api.webhooks.models import (
    DeliveryPage,
    ReplayRequest,
    ReplayResult,
    SecretRotated,
    SecretRotation,
    TestDelivery,
    WebhookCreate,
    WebhookCreated,
    WebhookUpdate,
    WebhookView,
)
from virtuoso_api.webhooks.service import WebhookService

WEBHOOKS: Final = StateKey[WebhookService]("webhooks")
Webhooks = Annotated[WebhookService, Depends(WEBHOOKS.get)]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_NOT_FOUND: Final = error(404, "No such webhook, or another caller's")
_WRITE: Final = declare(FORBIDDEN, _NOT_FOUND)

Limit = Query(default=50, ge=1, le=200)
Cursor = Query(default=None, max_length=2000)


def _scope_of(caller: Principal) -> str | None:
    """Whose webhooks a caller reaches: its own; an admin's, everyone's."""
    return None if caller.allows(Scope.ADMIN) else caller.user_id


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=declare(FORBIDDEN, JSON_BODY, error(409, "The caller has as many webhooks as it may")),
)
async def create_webhook(body: WebhookCreate, webhooks: Webhooks, caller: WriteAccess) -> WebhookCreated:
    """Deliver the caller's events of the listed types (every type when `events` is empty) to `url`.

    The answer holds the signing secret (`whsec_...`), shown this once. A URL that is not https, or
    names a private, loopback, link-local or metadata address, is a 422."""
    return await webhooks.create(caller.user_id, body)


@router.get("", response_model=list[WebhookView])
async def list_webhooks(webhooks: Webhooks, caller: ReadAccess) -> list[WebhookView]:
    """The caller's webhooks, newest first."""
    return await webhooks.list_for(caller.user_id)


# Declared before /{webhook_id}, which would take "dead-letters" for an id.
@router.get("/dead-letters", response_model=DeliveryPage, responses=declare(_NOT_FOUND, BAD_CURSOR, INVALID))
async def list_dead_letters(
    webhooks: Webhooks,
    caller: ReadAccess,
    webhook_id: str | None = Query(default=None, max_length=64),
    limit: int = Limit,
    cursor: str | None = Cursor,
) -> DeliveryPage:
    """Deliveries that used up every attempt of WEBHOOK_RETRY_SCHEDULE, newest first."""
    return await webhooks.dead_letters(_scope_of(caller), webhook_id=webhook_id, limit=limit, cursor=cursor)


@router.post(
    "/dead-letters/replay",
    response_model=ReplayResult,
    responses=declare(
        FORBIDDEN,
        JSON_BODY,
        error(404, "No such delivery or webhook, or another caller's"),
        error(409, "A named delivery is not a dead letter"),
    ),
)
async def replay_dead_letters(body: ReplayRequest, webhooks: Webhooks, caller: WriteAccess) -> ReplayResult:
    """Replay the dead letters named in `delivery_ids`, or (`all: true`) every one, of `webhook_id`
    if given. Each goes back in line with a fresh schedule and is attempted at once."""
    return await webhooks.replay(_scope_of(caller), body)


@router.post(
    "/dead-letters/{delivery_id}/replay",
    response_model=ReplayResult,
    responses=declare(
        FORBIDDEN,
        error(404, "No such delivery, or another caller's"),
        error(409, "The delivery is not a dead letter"),
    ),
)
async def replay_dead_letter(delivery_id: str, webhooks: Webhooks, caller: WriteAccess) -> ReplayResult:
    return await webhooks.replay_one(_scope_of(caller), delivery_id)


@router.get("/{webhook_id}", response_model=WebhookView, responses=_NOT_FOUND)
async def get_webhook(webhook_id: str, webhooks: Webhooks, caller: ReadAccess) -> WebhookView:
    return WebhookView.of(await webhooks.owned(_scope_of(caller), webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookView, responses=declare(_WRITE, JSON_BODY))
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, webhooks: Webhooks, caller: WriteAccess
) -> WebhookView:
    """Change the URL, the event types, the description or `enabled` (only the fields sent)."""
    return await webhooks.update(_scope_of(caller), webhook_id, body)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=_WRITE
)
async def delete_webhook(webhook_id: str, webhooks: Webhooks, caller: WriteAccess) -> Response:
    await webhooks.delete(_scope_of(caller), webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret", response_model=SecretRotated, responses=declare(_WRITE, JSON_BODY)
)
async def rotate_secret(
    webhook_id: str, webhooks: Webhooks, caller: WriteAccess, body: SecretRotation | None = None
) -> SecretRotated:
    """A new signing secret, shown this once; the old one also signs for `grace_seconds` (a day)."""
    return await webhooks.rotate_secret(_scope_of(caller), webhook_id, body or SecretRotation())


@router.post(
    "/{webhook_id}/test",
    response_model=TestDelivery,
    responses=declare(_WRITE, error(409, "The webhook is disabled")),
)
async def test_webhook(webhook_id: str, webhooks: Webhooks, caller: WriteAccess) -> TestDelivery:
    """Send a `webhook.test` event to this webhook now, once, and answer what happened."""
    return await webhooks.test(_scope_of(caller), webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=declare(_NOT_FOUND, BAD_CURSOR, INVALID),
)
async def list_deliveries(
    webhook_id: str,
    webhooks: Webhooks,
    caller: ReadAccess,
    limit: int = Limit,
    cursor: str | None = Cursor,
) -> DeliveryPage:
    """The webhook's delivery log, newest first: attempts, status codes, latency, next attempt."""
    return await webhooks.deliveries_of(_scope_of(caller), webhook_id, limit=limit, cursor=cursor)
