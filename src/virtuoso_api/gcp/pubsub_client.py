"""``pubsub_client``: publish events and subscribe to them, as the seed promised.

::

    from virtuoso_api.gcp import get_pubsub_client
    from virtuoso_api.gcp.pubsub_client import EventType

    pubsub = get_pubsub_client()
    await pubsub.publish_event(
        EventType.COMMAND_EXECUTED,
        {"command": "step-navigate", "checkpoint_id": "cp_123", "duration_ms": 1234, "success": True},
    )

    def handle_command_event(event_data):
        print(f"Command executed: {event_data}")

    pubsub.register_handler(EventType.COMMAND_EXECUTED, handle_command_event)
    await pubsub.subscribe("command-events-sub")

The bus follows ``USE_PUBSUB``: Pub/Sub (``PUBSUB_EMULATOR_HOST`` for the emulator) when on, the local
log in the data folder when off; events published here are the events the server's webhooks and live
stream see. ``publish_event`` checks ``data`` against the type's schema (``InvalidInput`` naming the
field) and returns the event's id; it goes through the outbox, so an event published while Pub/Sub is
down is kept and published when it returns (at the latest when the client closes).

A subscription receives the events published after it was first made, and keeps them while no one
listens: ``subscribe`` starts a background consumer that hands each event (the CloudEvents envelope as
a dict) to every handler registered for its type; sync handlers run in a worker thread. A handler that
raises leaves the event unacknowledged: it comes again, and after ``max_delivery_attempts`` it is a
dead letter (``dead_letters``, ``replay_dead_letters``). Events of types with no handler are
acknowledged and dropped. Use the client from one event loop and ``close()`` it when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from virtuoso_api.config import Settings
from virtuoso_api.events import SYSTEM_OWNER, Consumer, Event, EventType
from virtuoso_api.gcp._facade import OnePerProcess, ServicesClient
from virtuoso_api.infra.events import MIN_DELIVERY_ATTEMPTS, Received, SubscriptionSpec
from virtuoso_api.kit.clock import Clock

__all__ = ["EventType", "PubSubClient", "close_pubsub_client", "get_pubsub_client"]

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]


class PubSubClient(ServicesClient):
    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(settings, clock=clock)
        self._handlers: dict[EventType, list[Handler]] = defaultdict(list)
        self._consumers: dict[str, tuple[Consumer, asyncio.Task[None]]] = {}

    @property
    def backend(self) -> str:
        """``pubsub`` or ``sqlite``: where events go (known without opening anything)."""
        return "pubsub" if self.settings.use_pubsub else "sqlite"

    # -- publishing ------------------------------------------------------------------------------

    async def publish_event(
        self,
        event_type: EventType | str,
        data: Mapping[str, Any],
        *,
        owner: str = SYSTEM_OWNER,
        subject: str | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Publish one event; returns its id. ``owner`` is whose event it is (webhooks and the live
        stream show a user only their own)."""
        services = await self._open()
        event = await services.events.publisher.publish(
            event_type, data, owner=owner, subject=subject, correlation=correlation_id
        )
        return event.id

    # -- subscribing -----------------------------------------------------------------------------

    def register_handler(self, event_type: EventType | str, handler: Handler) -> None:
        """Call ``handler(event)`` for each event of ``event_type`` a subscription of this client gets."""
        self._handlers[EventType(event_type)].append(handler)

    async def subscribe(
        self, subscription_name: str, *, max_delivery_attempts: int = MIN_DELIVERY_ATTEMPTS
    ) -> str:
        """Make the subscription if it does not exist and consume it in the background until
        :meth:`unsubscribe` or :meth:`close`; returns its name."""
        if subscription_name in self._consumers:
            return subscription_name
        services = await self._open()
        spec = SubscriptionSpec(subscription_name, max_delivery_attempts=max_delivery_attempts)
        consumer = Consumer(services.events.capability.bus, spec, self._dispatch)
        await consumer.ensure()
        task = asyncio.create_task(consumer.run_forever(), name=f"subscription:{subscription_name}")
        self._consumers[subscription_name] = (consumer, task)
        return subscription_name

    async def _dispatch(self, item: Received) -> None:
        event = Event.from_json(item.message.data)
        payload = event.model_dump(mode="json")
        for handler in self._handlers.get(event.type, []):
            if inspect.iscoroutinefunction(handler):
                await handler(payload)
                continue
            result = await asyncio.to_thread(handler, payload)
            if inspect.isawaitable(result):
                await result

    def handled(self, subscription_name: str) -> int:
        """Events the subscription's consumer has handled (acked) so far."""
        entry = self._consumers.get(subscription_name)
        return entry[0].handled if entry else 0

    async def unsubscribe(self, subscription_name: str) -> None:
        """Stop consuming; the subscription keeps what is published meanwhile."""
        entry = self._consumers.pop(subscription_name, None)
        if entry is not None:
            entry[1].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await entry[1]

    async def delete_subscription(self, subscription_name: str) -> None:
        await self.unsubscribe(subscription_name)
        services = await self._open()
        await services.events.capability.bus.delete_subscription(subscription_name)

    async def dead_letters(self, subscription_name: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Events whose handler kept failing, as dicts, oldest first."""
        services = await self._open()
        messages = await services.events.capability.bus.dead_letters(subscription_name, limit=limit)
        return [Event.from_json(m.data).model_dump(mode="json") for m in messages]

    async def replay_dead_letters(self, subscription_name: str, *, limit: int = 100) -> int:
        services = await self._open()
        return await services.events.capability.bus.replay_dead_letters(subscription_name, limit=limit)

    # -- lifetime --------------------------------------------------------------------------------

    async def close(self) -> None:
        for name in list(self._consumers):
            await self.unsubscribe(name)
        await super().close()


_process_client = OnePerProcess(PubSubClient)


def get_pubsub_client() -> PubSubClient:
    """The process's client, built on first call from the environment (``Settings``)."""
    return _process_client.get()


async def close_pubsub_client() -> None:
    """Close the process's client (if any) and forget it; the next getter call builds a new one."""
    await _process_client.close()
