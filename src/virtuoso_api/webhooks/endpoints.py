"""``/api/v1/webhooks``: a caller's webhooks, their delivery log, tests, and dead letters.

Each caller sees and changes only its own webhooks (anyone else's is a 404); an admin key reaches
every caller's, and the dead letters of all.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.http.deps import ServicesDep
from virtuoso_api.http.openapi import CONFLICT, NOT_FOUND
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

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses={**NOT_FOUND, **CONFLICT})

Limit = Query(default=50, ge=1, le=200)
Cursor = Query(default=None, max_length=2000)


def _scope_of(caller: Principal) -> str | None:
    """Whose webhooks a caller reaches: its own; an admin's, everyone's."""
    return None if caller.allows(Scope.ADMIN) else caller.user_id


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(body: WebhookCreate, services: ServicesDep, caller: WriteAccess) -> WebhookCreated:
    """Deliver the caller's events of the listed types (every type when `events` is empty) to `url`.

    The answer holds the signing secret (`whsec_...`), shown this once. A URL that is not https, or
    names a private, loopback, link-local or metadata address, is a 422."""
    return await services.webhooks.create(caller.user_id, body)


@router.get("", response_model=list[WebhookView])
async def list_webhooks(services: ServicesDep, caller: ReadAccess) -> list[WebhookView]:
    """The caller's webhooks, newest first."""
    return await services.webhooks.list_for(caller.user_id)


# Declared before /{webhook_id}, which would take "dead-letters" for an id.
@router.get("/dead-letters", response_model=DeliveryPage)
async def list_dead_letters(
    services: ServicesDep,
    caller: ReadAccess,
    webhook_id: str | None = Query(default=None, max_length=64),
    limit: int = Limit,
    cursor: str | None = Cursor,
) -> DeliveryPage:
    """Deliveries that used up every attempt of WEBHOOK_RETRY_SCHEDULE, newest first."""
    return await services.webhooks.dead_letters(
        _scope_of(caller), webhook_id=webhook_id, limit=limit, cursor=cursor
    )


@router.post("/dead-letters/replay", response_model=ReplayResult)
async def replay_dead_letters(
    body: ReplayRequest, services: ServicesDep, caller: WriteAccess
) -> ReplayResult:
    """Replay the dead letters named in `delivery_ids`, or (`all: true`) every one, of `webhook_id`
    if given. Each goes back in line with a fresh schedule and is attempted at once."""
    return await services.webhooks.replay(_scope_of(caller), body)


@router.post("/dead-letters/{delivery_id}/replay", response_model=ReplayResult)
async def replay_dead_letter(delivery_id: str, services: ServicesDep, caller: WriteAccess) -> ReplayResult:
    return await services.webhooks.replay_one(_scope_of(caller), delivery_id)


@router.get("/{webhook_id}", response_model=WebhookView)
async def get_webhook(webhook_id: str, services: ServicesDep, caller: ReadAccess) -> WebhookView:
    return WebhookView.of(await services.webhooks.owned(_scope_of(caller), webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookView)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, services: ServicesDep, caller: WriteAccess
) -> WebhookView:
    """Change the URL, the event types, the description or `enabled` (only the fields sent)."""
    return await services.webhooks.update(_scope_of(caller), webhook_id, body)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_webhook(webhook_id: str, services: ServicesDep, caller: WriteAccess) -> Response:
    await services.webhooks.delete(_scope_of(caller), webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", response_model=SecretRotated)
async def rotate_secret(
    webhook_id: str, services: ServicesDep, caller: WriteAccess, body: SecretRotation | None = None
) -> SecretRotated:
    """A new signing secret, shown this once; the old one also signs for `grace_seconds` (a day)."""
    return await services.webhooks.rotate_secret(_scope_of(caller), webhook_id, body or SecretRotation())


@router.post("/{webhook_id}/test", response_model=TestDelivery)
async def test_webhook(webhook_id: str, services: ServicesDep, caller: WriteAccess) -> TestDelivery:
    """Send a `webhook.test` event to this webhook now, once, and answer what happened."""
    return await services.webhooks.test(_scope_of(caller), webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: str,
    services: ServicesDep,
    caller: ReadAccess,
    limit: int = Limit,
    cursor: str | None = Cursor,
) -> DeliveryPage:
    """The webhook's delivery log, newest first: attempts, status codes, latency, next attempt."""
    return await services.webhooks.deliveries_of(_scope_of(caller), webhook_id, limit=limit, cursor=cursor)
