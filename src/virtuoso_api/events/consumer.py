"""Consuming: one loop per subscription that pulls, hands each message to a handler, and acks or nacks.

A handler that returns has handled the message (ack); one that raises has not (nack: the message
comes again, and after the subscription's ``max_delivery_attempts`` it is dead-lettered). The loop
outlives a bus that is down: it waits and pulls again, so a consumer started while Pub/Sub is
unreachable catches up when it returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from opentelemetry.trace import SpanKind

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.events import EventBus, Received, SubscriptionSpec, UnknownSubscription
from virtuoso_api.telemetry import active, span
from virtuoso_api.telemetry.instruments import consumer_label
from virtuoso_api.telemetry.propagation import mark_failed

logger = logging.getLogger(__name__)

Handle = Callable[[Received], Awaitable[None]]

_PULL_WAIT_SECONDS: Final = 1.0
_OUTAGE_PAUSE_SECONDS: Final = 2.0


class Consumer:
    """Consumes ``spec.name`` with ``handle``, up to ``concurrency`` messages at a time (1 keeps the
    order of each ordering key)."""

    def __init__(
        self,
        bus: EventBus,
        spec: SubscriptionSpec,
        handle: Handle,
        *,
        concurrency: int = 1,
        batch: int = 100,
    ) -> None:
        self.bus = bus
        self.spec = spec
        self._handle = handle
        self._concurrency = concurrency
        self._batch = batch
        self._ready = False
        self._label = consumer_label(spec.name)
        self.handled = 0  # messages handled and acked: a counter tests and benchmarks read
        self.failed = 0

    async def ensure(self) -> None:
        """Create the subscription if it does not exist yet."""
        if not self._ready:
            await self.bus.subscribe(self.spec)
            self._ready = True

    async def pump(self, *, wait_seconds: float = 0) -> int:
        """Pull once and handle what came; returns how many messages were handled."""
        await self.ensure()
        try:
            received = await self.bus.pull(
                self.spec.name, max_messages=self._batch, wait_seconds=wait_seconds
            )
        except UnknownSubscription:
            self._ready = False  # deleted behind our back: made again on the next round
            raise
        if not received:
            return 0
        if self._concurrency == 1:
            outcomes = [await self._one(item) for item in received]
        else:
            gate = asyncio.Semaphore(self._concurrency)

            async def limited(item: Received) -> bool:
                async with gate:
                    return await self._one(item)

            outcomes = list(await asyncio.gather(*(limited(item) for item in received)))
        done = [item.ack_id for item, ok in zip(received, outcomes, strict=True) if ok]
        again = [item.ack_id for item, ok in zip(received, outcomes, strict=True) if not ok]
        await self.bus.ack(self.spec.name, done)
        await self.bus.nack(self.spec.name, again)
        self.handled += len(done)
        self.failed += len(again)
        return len(done)

    async def _one(self, item: Received) -> bool:
        # The handler's work (a webhook's delivery) continues the trace of what published the message.
        with span(
            f"consume {self._label}",
            traceparent=item.message.attributes.get("traceparent"),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.message.id": item.message.id, "messaging.consumer": self._label},
        ) as current:
            handled = await self._handled(item)
            if not handled:
                mark_failed(current, "the handler failed; the message comes again")
        outcome = "acked" if handled else "nacked"
        active().metrics.consumed.add(1, {"consumer": self._label, "outcome": outcome})
        return handled

    async def _handled(self, item: Received) -> bool:
        try:
            await self._handle(item)
        except Exception:
            logger.exception(
                "%s: handling message %s failed (attempt %d of %d)",
                self.spec.name,
                item.message.id,
                item.delivery_attempt,
                self.spec.max_delivery_attempts,
            )
            return False
        return True

    async def run_forever(self) -> None:
        """Pump until cancelled; an unavailable bus pauses the loop instead of ending it."""
        while True:
            try:
                await self.pump(wait_seconds=_PULL_WAIT_SECONDS)
            except (BackendUnavailable, UnknownSubscription) as exc:
                logger.warning("%s: the events bus is not answering (%s); trying again", self.spec.name, exc)
                await asyncio.sleep(_OUTAGE_PAUSE_SECONDS)
            except Exception:
                logger.exception("%s: consuming failed; trying again", self.spec.name)
                await asyncio.sleep(_OUTAGE_PAUSE_SECONDS)
