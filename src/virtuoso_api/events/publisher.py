"""Publishing: an event is checked against its schema, put in the envelope, and handed to the outbox.

The outbox's ``events`` channel publishes at once while the bus answers and keeps the event in the
local log while it does not (Pub/Sub down), replaying in order when it returns: an event accepted
with a command is never lost, and lands once (consumers deduplicate by id after a replay that
published it twice).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from virtuoso_api.errors import BackendUnavailable, InvalidInput
from virtuoso_api.events.envelope import Event
from virtuoso_api.events.types import SCHEMAS, EventType, schema_uri
from virtuoso_api.infra.events import EventBus, Message
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.correlation import correlation_id
from virtuoso_api.kit.ids import new_id
from virtuoso_api.telemetry import active, current_traceparent

if TYPE_CHECKING:
    # For types only: the outbox and the documents package import each other, and which comes first
    # is the documents package's to decide.
    from virtuoso_api.infra.outbox import Outbox, OutboxChannel

logger = logging.getLogger(__name__)

CHANNEL = "events"
#: The owner of events no user caused (a secret rotated by an operator): admins see them.
SYSTEM_OWNER = "system"


def event_id_for(dedupe_key: str) -> str:
    """The id of the one event ``dedupe_key`` names (``job:<id>:ended``): every publish of it, after a
    crash or from two paths that saw one end, is the same event, which the local log and the journal
    keep once and each webhook receives once."""
    return "evt_" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]


def to_message(event: Event) -> Message:
    attributes = {"type": event.type.value, "owner": event.owner}
    if event.traceparent:  # the consumer's span continues the publisher's trace
        attributes["traceparent"] = event.traceparent
    return Message(event.id, event.to_json(), attributes, event.ordering_key)


class EventPublisher:
    """``publish(type, data, owner=...)``: the one call every domain flow makes."""

    def __init__(self, bus: EventBus, outbox: Outbox, *, clock: Clock) -> None:
        self._clock = clock

        async def send(payload: Any) -> None:
            await bus.publish([to_message(Event.model_validate(payload))])

        # An event the bus refuses for good (too large, malformed) must not block those behind it.
        self._channel: OutboxChannel = outbox.channel(CHANNEL, send, refused=(ValueError,))
        self.published = 0  # events accepted by this process: a counter tests and metrics read

    def build(
        self,
        event_type: EventType | str,
        data: Mapping[str, Any],
        *,
        owner: str,
        subject: str | None = None,
        correlation: str | None = None,
        dedupe_key: str | None = None,
    ) -> Event:
        """The event, its data checked against the type's schema (422 naming the field). Its id is
        fresh, or derived from ``dedupe_key`` (:func:`event_id_for`)."""
        try:
            kind = EventType(event_type)
        except ValueError as exc:
            raise InvalidInput("event_type", f"unknown event type {str(event_type)[:60]!r}") from exc
        model, _ = SCHEMAS[kind]
        try:
            checked = model.model_validate(dict(data))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInput(f"data.{where}" if where else "data", first["msg"]) from exc
        return Event(
            id=new_id("evt") if dedupe_key is None else event_id_for(dedupe_key),
            type=kind,
            time=self._clock.now(),
            subject=subject,
            dataschema=schema_uri(kind),
            owner=owner,
            correlationid=correlation if correlation is not None else correlation_id.get(),
            traceparent=current_traceparent(),
            data=checked.model_dump(mode="json", exclude_none=True),
        )

    async def publish(
        self,
        event_type: EventType | str,
        data: Mapping[str, Any],
        *,
        owner: str,
        subject: str | None = None,
        correlation: str | None = None,
        dedupe_key: str | None = None,
    ) -> Event:
        """Accept an event for publishing: on the bus now, or from the outbox once it answers."""
        event = self.build(
            event_type, data, owner=owner, subject=subject, correlation=correlation, dedupe_key=dedupe_key
        )
        await self._channel.deliver(event.model_dump(mode="json"))
        self.published += 1
        active().metrics.event(event.type.value, event.data)  # commands, sessions, jobs, runs...
        return event

    async def publish_or_log(
        self,
        event_type: EventType,
        data: Mapping[str, Any],
        *,
        owner: str,
        subject: str | None = None,
        correlation: str | None = None,
        dedupe_key: str | None = None,
    ) -> None:
        """For a flow whose work is already done: an event that cannot even be kept locally (the data
        folder's disk failed) is logged, not raised, so a caller is not invited to redo the work."""
        try:
            await self.publish(
                event_type, data, owner=owner, subject=subject, correlation=correlation, dedupe_key=dedupe_key
            )
        except BackendUnavailable:
            logger.exception("event %s could not be accepted", event_type.value)

    async def pending(self) -> int:
        """Events accepted but waiting in the outbox for the bus."""
        return await self._channel.pending()
