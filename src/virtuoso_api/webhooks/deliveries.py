"""Deliveries: one record per (event, webhook), attempted on WEBHOOK_RETRY_SCHEDULE until it lands or
goes to the dead letters.

A delivery record is made once per event and webhook (its id is derived from both, so an event the bus
hands over twice makes one record) and holds the exact body every attempt sends. Its first attempt
runs at once; a failed one gets ``next_attempt_at`` from the schedule (each delay ±10%, so deliveries
that failed together do not retry together), and the periodic :meth:`Deliveries.deliver_due` runs
those that are due, reading time from the service's clock. After the schedule's last delay has run out
the delivery is *dead*: listed at ``/api/v1/webhooks/dead-letters``, replayable, and announced with a
``webhook.delivery_failed`` event. A webhook whose deliveries die :data:`DISABLE_AFTER` times in a row
is disabled, with a ``webhook.disabled`` event.

Each attempt is claimed first: an atomic create of ``<delivery>.<round>.<attempt>`` in the store. Two
processes (or a periodic run and a first attempt) that both see a delivery due make one attempt; a
process killed mid-attempt leaves a claim that expires, and the attempt is made again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from virtuoso_api.errors import BackendUnavailable, InvalidInput, NotFound
from virtuoso_api.events import Event, EventPublisher, EventType
from virtuoso_api.infra.documents import (
    DocumentAlreadyExists,
    DocumentStore,
    Filter,
    Op,
    Query,
    is_valid_doc_id,
    query_page,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.webhooks.directory import WebhookDirectory
from virtuoso_api.webhooks.models import (
    CLAIMS,
    DELIVERIES,
    WEBHOOKS,
    Attempt,
    Delivery,
    DeliveryPage,
    ReplayResult,
    StoredDelivery,
    Webhook,
)
from virtuoso_api.webhooks.sealing import SealingError, SecretSeal
from virtuoso_api.webhooks.sender import AttemptResult, WebhookSender

logger = logging.getLogger(__name__)

#: Deliveries dead in a row before the webhook is disabled.
DISABLE_AFTER: Final = 3
#: How long delivery records (and so the delivery log and dead letters) are kept.
KEEP: Final = timedelta(days=30)
JITTER: Final = 0.1
_DUE_BATCH: Final = 100
_CONCURRENCY: Final = 16
_MAX_ATTEMPTS_KEPT: Final = 50
_MAX_REPLAY: Final = 1000


#: Dead letters a replay attempts inside the request; the periodic run sends the rest.
ATTEMPT_NOW: Final = 10


def delivery_id(event_id: str, webhook_id: str) -> str:
    return "dlv_" + hashlib.sha256(f"{event_id}\0{webhook_id}".encode()).hexdigest()[:24]


class Deliveries:
    def __init__(
        self,
        store: DocumentStore,
        *,
        clock: Clock,
        directory: WebhookDirectory,
        sender: WebhookSender,
        seal: SecretSeal,
        schedule: Sequence[float],
        timeout_seconds: float,
        events: EventPublisher,
    ) -> None:
        self._store = store
        self._clock = clock
        self._directory = directory
        self._sender = sender
        self._seal = seal
        self._schedule = list(schedule)
        self._claim_for = timedelta(seconds=timeout_seconds + 60)
        self._events = events
        self._gate = asyncio.Semaphore(_CONCURRENCY)
        self.attempted = 0  # attempts made and recorded by this process: tests and benchmarks read it
        # The earliest retry this process scheduled: the frequent check asks the store only once it
        # is due (a slower sweep asks anyway, for retries other processes scheduled and left).
        self._next_due: datetime | None = None
        self._counting: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- making and attempting -------------------------------------------------------------------

    async def enqueue(
        self, hook: Webhook, event: Event, payload: str, *, test: bool = False
    ) -> StoredDelivery | None:
        """The delivery of ``event`` to ``hook``, for its maker to attempt at once (:meth:`first`);
        ``None`` if it was made already. It is due for the periodic run only once a first attempt
        could have ended, so it needs no claim; a maker killed before attempting leaves it due then."""
        now = self._clock.now()
        delivery = StoredDelivery(
            delivery_id=delivery_id(event.id, hook.webhook_id),
            webhook_id=hook.webhook_id,
            owner=hook.owner,
            event_id=event.id,
            event_type=event.type.value,
            state="pending",
            next_attempt_at=now + self._claim_for,
            created_at=now,
            test=test,
            payload=payload,
        )
        try:
            await self._store.create(
                DELIVERIES, delivery.delivery_id, delivery.model_dump(mode="json"), expires_at=now + KEEP
            )
        except DocumentAlreadyExists:
            return None
        return delivery

    async def attempt(self, delivery: StoredDelivery) -> StoredDelivery:
        """One attempt, if ``delivery`` is still due and no one else is making it; the record after."""
        async with self._gate:
            return await self._attempt(delivery)

    async def first(self, made: StoredDelivery) -> StoredDelivery:
        """The first attempt of a delivery this process just made (:meth:`enqueue`): no one else can
        be making it, so it is neither claimed nor read again."""
        async with self._gate:
            return await self._send(made, self._clock.now())

    async def _attempt(self, seen: StoredDelivery) -> StoredDelivery:
        now = self._clock.now()
        number = seen.round_attempts + 1
        claim = f"{seen.delivery_id}.{seen.replays}.{number}"
        try:
            await self._store.create(
                CLAIMS, claim, {"at": format_timestamp(now)}, expires_at=now + self._claim_for
            )
        except DocumentAlreadyExists:
            return seen
        current = await self._get(seen.delivery_id)
        # Claimed from a stale read: someone else moved it on already.
        if current is None or current.state != "pending" or current.round_attempts != seen.round_attempts:
            return current or seen
        return await self._send(current, now)

    async def _send(self, current: StoredDelivery, now: datetime) -> StoredDelivery:
        hook = await self._directory.get(current.webhook_id)
        if hook is None or not hook.enabled:
            why = "webhook deleted" if hook is None else "webhook disabled"
            result = AttemptResult(None, 0.0, f"not sent: {why}")
            # A dead letter to replay once the webhook is enabled again; not one more failure of it.
            return await self._record(current, None, result, now, final=True)
        try:
            secrets = await self._secrets_of(hook, now)
        except SealingError as exc:  # a failed attempt (never an unsigned one), to replay once fixed
            logger.error("webhook %s: %s", hook.webhook_id, exc.message)
            result = AttemptResult(None, 0.0, "not sent: the webhook's signing secret cannot be opened")
        else:
            result = await self._sender.send(
                hook.url, secrets=secrets, message_id=current.delivery_id, at=now, body=current.payload
            )
        recorded = await self._record(current, hook, result, now, final=current.test)
        self.attempted += 1  # counted once recorded, so a test that saw the count sees the record
        return recorded

    async def _secrets_of(self, hook: Webhook, now: datetime) -> list[str]:
        """The secrets that sign now: the current one, and one rotated out but in its grace period
        (left out, with a warning, if it no longer opens: the current one still signs)."""
        current, *retiring = [s for s in hook.secrets if s.expires_at is None or s.expires_at > now]
        opened = [await self._seal.open(current.sealed, webhook_id=hook.webhook_id)]
        for secret in retiring:
            try:
                opened.append(await self._seal.open(secret.sealed, webhook_id=hook.webhook_id))
            except SealingError as exc:
                logger.warning(
                    "webhook %s: a previous secret does not sign: %s", hook.webhook_id, exc.message
                )
        return opened

    async def _record(
        self,
        delivery: StoredDelivery,
        hook: Webhook | None,
        result: AttemptResult,
        at: datetime,
        *,
        final: bool,
    ) -> StoredDelivery:
        attempt = Attempt(
            at=at, status_code=result.status_code, latency_ms=result.latency_ms, error=result.error
        )
        attempts = [*delivery.attempts, attempt][-_MAX_ATTEMPTS_KEPT:]
        number = delivery.round_attempts + 1
        changes: dict[str, Any] = {"attempts": attempts, "round_attempts": number}
        if result.delivered:
            changes |= {"state": "delivered", "delivered_at": at, "next_attempt_at": None}
        elif final or number > len(self._schedule):
            changes |= {"state": "failed" if delivery.test else "dead", "next_attempt_at": None}
        else:
            delay = self._schedule[number - 1] * random.uniform(1 - JITTER, 1 + JITTER)
            changes["next_attempt_at"] = due = at + timedelta(seconds=delay)
            self._next_due = due if self._next_due is None else min(self._next_due, due)
        updated = delivery.model_copy(update=changes)
        stored = updated.model_dump(mode="json", include=set(changes))
        await self._store.patch(DELIVERIES, delivery.delivery_id, stored)
        if hook is not None and not delivery.test:
            await self._follow_up(hook, updated)
        return updated

    async def _follow_up(self, hook: Webhook, delivery: StoredDelivery) -> None:
        """Keep the webhook's count of dead deliveries in a row; announce a dead one; disable a
        webhook that keeps failing."""
        if delivery.state == "delivered":
            if hook.dead_in_a_row:
                await self._patch_hook(hook, {"dead_in_a_row": 0})
            return
        if delivery.state != "dead":
            return
        last = delivery.attempts[-1]
        await self._events.publish_or_log(
            EventType.WEBHOOK_DELIVERY_FAILED,
            {
                "webhook_id": hook.webhook_id,
                "delivery_id": delivery.delivery_id,
                "event_id": delivery.event_id,
                "event_type": delivery.event_type,
                "attempts": delivery.round_attempts,
                "last_status_code": last.status_code,
                "last_error": last.error,
            },
            owner=hook.owner,
            subject=f"webhook/{hook.webhook_id}",
        )
        # Counted one at a time per webhook in this process: deliveries of one webhook often die
        # together, and a read-modify-write each would count one. (Instances count apart; a count
        # may then be one low, and the webhook disabled one dead letter later.)
        async with self._counting[hook.webhook_id]:
            fresh = await self._directory.get(hook.webhook_id, fresh=True)
            if fresh is None:
                return
            dead = fresh.dead_in_a_row + 1
            changes: dict[str, Any] = {"dead_in_a_row": dead}
            disable = fresh.enabled and dead >= DISABLE_AFTER
            reason = f"{dead} deliveries in a row used up every attempt"
            if disable:
                changes |= {"enabled": False, "disabled_reason": reason}
            await self._patch_hook(fresh, changes)
        if disable:
            await self._events.publish_or_log(
                EventType.WEBHOOK_DISABLED,
                {"webhook_id": hook.webhook_id, "url": hook.url, "reason": reason, "dead_deliveries": dead},
                owner=hook.owner,
                subject=f"webhook/{hook.webhook_id}",
            )

    async def _patch_hook(self, hook: Webhook, changes: dict[str, Any]) -> None:
        changes = {**changes, "updated_at": format_timestamp(self._clock.now())}
        await self._store.patch(WEBHOOKS, hook.webhook_id, changes)
        self._directory.forget(hook)

    async def deliver_known_due(self) -> int:
        """:meth:`deliver_due`, only once a retry this process scheduled is due: the frequent check,
        which leaves the store alone (and a store that is down) while nothing of ours is due."""
        if self._next_due is None or self._next_due > self._clock.now():
            return 0
        self._next_due = None
        return await self.deliver_due()

    async def deliver_due(self) -> int:
        """Attempt every delivery whose next attempt is due (by the service's clock); returns how many
        attempts this call made. A store that is down ends the round; the next one tries again."""
        try:
            return await self._deliver_due()
        except BackendUnavailable as exc:
            logger.warning("webhook retries wait: %s", exc.message)
            return 0

    async def _deliver_due(self) -> int:
        made = 0
        while True:
            page = await self._store.query(
                Query(
                    DELIVERIES,
                    filters=(
                        Filter("state", Op.EQ, "pending"),
                        Filter("next_attempt_at", Op.LE, format_timestamp(self._clock.now())),
                    ),
                    order_by="next_attempt_at",
                    limit=_DUE_BATCH,
                )
            )
            due = [StoredDelivery.model_validate(doc.data) for doc in page.documents]
            before = self.attempted
            results = await asyncio.gather(*(self.attempt(d) for d in due))
            made += self.attempted - before
            moved = sum(1 for seen, after in zip(due, results, strict=True) if after is not seen)
            if len(due) < _DUE_BATCH or moved == 0:
                return made

    # -- reading ---------------------------------------------------------------------------------

    async def _get(self, delivery_id: str) -> StoredDelivery | None:
        if not (delivery_id.startswith("dlv_") and is_valid_doc_id(delivery_id)):
            return None
        document = await self._store.get(DELIVERIES, delivery_id)
        return None if document is None else StoredDelivery.model_validate(document.data)

    async def get(self, delivery_id: str, *, owner: str | None) -> StoredDelivery:
        found = await self._get(delivery_id)
        if found is None or (owner is not None and found.owner != owner):
            raise NotFound(f"delivery {delivery_id} does not exist")
        return found

    async def page(self, filters: Sequence[Filter], *, limit: int, cursor: str | None) -> DeliveryPage:
        if not 1 <= limit <= 200:
            raise InvalidInput("limit", "must be between 1 and 200")
        query = Query(
            DELIVERIES, tuple(filters), order_by="created_at", descending=True, limit=limit, cursor=cursor
        )
        found = await query_page(self._store, query)
        deliveries = [Delivery.model_validate(doc.data) for doc in found.documents]
        return DeliveryPage(deliveries=deliveries, next_cursor=found.next_cursor)

    # -- replaying -------------------------------------------------------------------------------

    async def replay(self, deliveries: Sequence[StoredDelivery]) -> ReplayResult:
        """Put dead letters back in line, due now with a fresh schedule, and attempt the first few now.

        Only ``ATTEMPT_NOW`` are attempted inside the request: a bulk replay of a thousand letters to a
        slow receiver would otherwise hold the caller for minutes. The rest are due now, so the periodic
        run (which claims each one, see the module docstring) sends them next.
        """
        now = self._clock.now()
        replayed: list[StoredDelivery] = []
        for dead in deliveries:
            if dead.state != "dead":
                continue
            changes = {
                "state": "pending",
                "next_attempt_at": now,
                "replays": dead.replays + 1,
                "round_attempts": 0,
            }
            again = dead.model_copy(update=changes)
            await self._store.patch(
                DELIVERIES, dead.delivery_id, again.model_dump(mode="json", include=set(changes))
            )
            replayed.append(again)
        await asyncio.gather(*(self.attempt(d) for d in replayed[:ATTEMPT_NOW]))
        return ReplayResult(replayed=len(replayed), delivery_ids=[d.delivery_id for d in replayed])

    async def dead_of(self, filters: Sequence[Filter]) -> list[StoredDelivery]:
        """Every dead letter matching ``filters`` (``state == dead`` added), up to 1,000."""
        found: list[StoredDelivery] = []
        cursor: str | None = None
        while len(found) < _MAX_REPLAY:
            page = await self._store.query(
                Query(
                    DELIVERIES,
                    (*filters, Filter("state", Op.EQ, "dead")),
                    order_by="created_at",
                    descending=True,
                    limit=min(200, _MAX_REPLAY - len(found)),
                    cursor=cursor,
                )
            )
            found += [StoredDelivery.model_validate(doc.data) for doc in page.documents]
            if (cursor := page.next_cursor) is None:
                break
        return found
