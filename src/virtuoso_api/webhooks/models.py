"""Webhooks and their deliveries, as stored and as shown, and the bodies that change them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from virtuoso_api.events import EventType
from virtuoso_api.kit.json_values import JSON_INTEGER, JsonBool, not_null
from virtuoso_api.kit.text import Text
from virtuoso_api.kit.timestamps import UtcDatetime

WEBHOOKS = "webhooks"
DELIVERIES = "webhook_deliveries"
CLAIMS = "webhook_claims"

#: ``failed`` is a test delivery that failed: tests are tried once and are never dead letters.
DeliveryState = Literal["pending", "delivered", "dead", "failed"]


def _unique_types(value: list[EventType]) -> list[EventType]:
    return sorted(set(value), key=list(EventType).index)


class SealedSecret(BaseModel):
    sealed: str
    created_at: UtcDatetime
    #: When a rotated-out secret stops being used; ``None`` for the current one.
    expires_at: UtcDatetime | None = None


class Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    webhook_id: str
    owner: str
    url: str
    events: list[EventType] = Field(default_factory=list)
    description: str | None = None
    enabled: JsonBool = True
    created_at: UtcDatetime
    updated_at: UtcDatetime
    secrets: list[SealedSecret]
    #: Deliveries in a row that went to the dead letters; a delivered one resets it.
    dead_in_a_row: int = 0
    disabled_reason: str | None = None

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookView(BaseModel):
    """A webhook as answered: never its secret."""

    webhook_id: str
    owner: str
    url: str
    events: list[EventType] = Field(description="event types delivered; empty means every type")
    description: str | None
    enabled: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime
    disabled_reason: str | None = None
    secret_rotated_at: UtcDatetime | None = None
    previous_secret_expires_at: UtcDatetime | None = None

    @classmethod
    def of(cls, hook: Webhook) -> WebhookView:
        current = hook.secrets[0]
        previous = [s.expires_at for s in hook.secrets[1:] if s.expires_at is not None]
        return cls(
            **hook.model_dump(
                include={
                    "webhook_id",
                    "owner",
                    "url",
                    "events",
                    "description",
                    "enabled",
                    "created_at",
                    "updated_at",
                    "disabled_reason",
                }
            ),
            secret_rotated_at=current.created_at if len(hook.secrets) > 1 else None,
            previous_secret_expires_at=max(previous) if previous else None,
        )


class WebhookCreated(WebhookView):
    secret: str = Field(description="the signing secret (whsec_...), shown this once")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(max_length=2048, description="https:// URL that receives POSTed events")
    events: list[EventType] = Field(default_factory=list, max_length=len(EventType))
    description: Text | None = Field(default=None, max_length=500)
    enabled: JsonBool = True

    _unique = field_validator("events")(_unique_types)


class WebhookUpdate(BaseModel):
    """Only the fields present are changed. Enabling a webhook the service disabled clears its count
    of dead deliveries."""

    model_config = ConfigDict(extra="forbid")

    # url, events and enabled may be left out, not removed: null is refused, and not offered.
    url: Text | None = Field(default=None, max_length=2048, json_schema_extra=not_null)
    events: list[EventType] | None = Field(
        default=None, max_length=len(EventType), json_schema_extra=not_null
    )
    description: Text | None = Field(default=None, max_length=500)
    enabled: JsonBool | None = Field(default=None, json_schema_extra=not_null)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[EventType] | None) -> list[EventType] | None:
        return None if value is None else _unique_types(value)

    @field_validator("url", "enabled", "events", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:  # only reached when the caller sent null explicitly
            raise ValueError("may be changed but not removed")
        return value


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: Annotated[int, Field(ge=0, le=7 * 86_400), JSON_INTEGER] = Field(
        default=86_400, description="how long the old secret keeps signing too"
    )


class SecretRotated(BaseModel):
    webhook_id: str
    secret: str = Field(description="the new signing secret (whsec_...), shown this once")
    previous_secret_expires_at: UtcDatetime | None


class Attempt(BaseModel):
    at: UtcDatetime
    status_code: int | None = None
    latency_ms: float
    error: str | None = None


class Delivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    delivery_id: str = Field(description="also the webhook-id header: the same on every retry")
    webhook_id: str
    owner: str
    event_id: str
    event_type: str
    state: DeliveryState
    attempts: list[Attempt] = Field(default_factory=list)
    next_attempt_at: UtcDatetime | None = None
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None = None
    test: bool = False
    replays: int = Field(default=0, description="times it was replayed from the dead letters")
    #: Attempts since it was made or last replayed: where it stands in WEBHOOK_RETRY_SCHEDULE.
    round_attempts: int = 0


class StoredDelivery(Delivery):
    """As stored: with the exact body sent on every attempt."""

    payload: str


class DeliveryPage(BaseModel):
    deliveries: list[Delivery]
    next_cursor: str | None


class TestDelivery(BaseModel):
    delivered: bool
    delivery: Delivery


class ReplayRequest(BaseModel):
    """Replay dead letters: the ones named, or every one (of a webhook, if given)."""

    # What ``replay`` checks, for the OpenAPI document: named ones, or all (of a webhook, if given).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["delivery_ids"],
                    "properties": {
                        "delivery_ids": {"type": "array"},
                        "all": {"const": False},
                        "webhook_id": {"type": "null"},
                    },
                },
                {
                    "required": ["all"],
                    "properties": {"all": {"const": True}, "delivery_ids": {"type": "null"}},
                },
            ]
        },
    )

    delivery_ids: list[str] | None = Field(default=None, min_length=1, max_length=500)
    webhook_id: str | None = None
    all: JsonBool = Field(
        default=False, description="every dead letter of the caller (of webhook_id, if given)"
    )


class ReplayResult(BaseModel):
    replayed: int
    delivery_ids: list[str]
