"""Webhooks: a caller's endpoints for chosen event types, signed deliveries, and their dead letters.

Events reach webhooks through the bus: the ``webhooks`` subscription's consumer matches each event
with its owner's enabled webhooks that want its type, makes a delivery for each, and attempts it at
once (``deliveries.py`` takes it from there). A webhook receives only its owner's events, and never
the ``webhook.*`` events about itself (a failing webhook told of its own failures would fail again).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Final

from virtuoso_api.config import Settings
from virtuoso_api.errors import Conflict, InvalidInput, NotFound
from virtuoso_api.events import Consumer, Event, EventPublisher, EventType
from virtuoso_api.infra.documents import DocumentStore, Filter, Op
from virtuoso_api.infra.events import EventBus, Received, SubscriptionSpec
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.ids import new_id
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.secrets import SecretsService
from virtuoso_api.webhooks.deliveries import Deliveries
from virtuoso_api.webhooks.directory import MAX_PER_OWNER, WebhookDirectory
from virtuoso_api.webhooks.models import (
    CLAIMS,
    DELIVERIES,
    WEBHOOKS,
    DeliveryPage,
    ReplayRequest,
    ReplayResult,
    SealedSecret,
    SecretRotated,
    SecretRotation,
    TestDelivery,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookUpdate,
    WebhookView,
)
from virtuoso_api.webhooks.resealing import Resealer, WebhookSecretsLock
from virtuoso_api.webhooks.sealing import SecretSeal, legacy_source, new_secret
from virtuoso_api.webhooks.sender import WebhookSender
from virtuoso_api.webhooks.targets import parse_target

SUBSCRIPTION: Final = "webhooks"
_DUE_EVERY_SECONDS: Final = 1.0
# Retries scheduled by another instance, or by a process that was stopped, are found this often.
_SWEEP_EVERY_SECONDS: Final = 30.0
_FAN_OUT_CONCURRENCY: Final = 32
# A rotation of the sealing key is seen within SECRET_CACHE_TTL_SECONDS; the check is one cached read.
_RESEAL_CHECK_EVERY_SECONDS: Final = 60.0


class WebhookService:
    def __init__(
        self,
        store: DocumentStore,
        bus: EventBus,
        *,
        clock: Clock,
        events: EventPublisher,
        secrets: SecretsService,
        settings: Settings,
    ) -> None:
        self._store = store
        self._clock = clock
        self._events = events
        self._allow_local = settings.webhook_allow_local_targets
        self._seal = SecretSeal.from_settings(secrets, settings)
        self.directory = WebhookDirectory(store, clock=clock)
        self._secrets_lock = WebhookSecretsLock(store, clock=clock)
        self.resealer = Resealer(
            store,
            seal=self._seal,
            directory=self.directory,
            lock=self._secrets_lock,
            clock=clock,
            legacy_source=legacy_source(settings),
        )
        self._sender = WebhookSender(
            timeout_seconds=settings.webhook_timeout_seconds, allow_local=self._allow_local
        )
        self.deliveries = Deliveries(
            store,
            clock=clock,
            directory=self.directory,
            sender=self._sender,
            seal=self._seal,
            schedule=settings.webhook_retry_schedule,
            timeout_seconds=settings.webhook_timeout_seconds,
            events=events,
        )
        self.consumer = Consumer(
            bus, SubscriptionSpec(SUBSCRIPTION), self._fan_out, concurrency=_FAN_OUT_CONCURRENCY
        )

    def needs(self) -> Needs:
        due = PeriodicJob(
            "deliver due webhook retries", _DUE_EVERY_SECONDS, self.deliveries.deliver_known_due
        )
        sweep = PeriodicJob(
            "sweep for due webhook retries", _SWEEP_EVERY_SECONDS, self.deliveries.deliver_due
        )
        reseal = PeriodicJob(
            "re-seal webhook secrets after a rotation of their key",
            _RESEAL_CHECK_EVERY_SECONDS,
            self.resealer.when_rotated,
        )
        return Needs(
            expiring_collections=(DELIVERIES, CLAIMS),
            periodic=(due, sweep, reseal),
            at_start=(self.consumer.run_forever, self.resealer.at_start),
            at_shutdown=(self.close,),
        )

    # -- managing --------------------------------------------------------------------------------

    async def create(self, owner: str, body: WebhookCreate) -> WebhookCreated:
        parse_target(body.url, allow_local=self._allow_local)
        if len(await self.directory.of_owner(owner, fresh=True)) >= MAX_PER_OWNER:
            raise Conflict(f"a caller may have at most {MAX_PER_OWNER} webhooks; delete one first")
        now = self._clock.now()
        secret = new_secret()
        webhook_id = new_id("wh")
        hook = Webhook(
            webhook_id=webhook_id,
            owner=owner,
            url=body.url,
            events=body.events,
            description=body.description,
            enabled=body.enabled,
            created_at=now,
            updated_at=now,
            secrets=[
                SealedSecret(sealed=await self._seal.seal(secret, webhook_id=webhook_id), created_at=now)
            ],
        )
        await self._store.create(WEBHOOKS, hook.webhook_id, hook.model_dump(mode="json"))
        self.directory.forget(hook)
        return WebhookCreated(**WebhookView.of(hook).model_dump(), secret=secret)

    async def owned(self, owner: str | None, webhook_id: str) -> Webhook:
        """A webhook of ``owner`` (anyone's for ``None``, an admin); anyone else's is not found."""
        hook = await self.directory.get(webhook_id, fresh=True)
        if hook is None or (owner is not None and hook.owner != owner):
            raise NotFound(f"webhook {webhook_id} does not exist")
        return hook

    async def list_for(self, owner: str) -> list[WebhookView]:
        return [WebhookView.of(hook) for hook in await self.directory.of_owner(owner, fresh=True)]

    async def list_all(self, owner: str | None) -> list[WebhookView]:
        """Every webhook (of ``owner`` if given), newest first: for the machine's administrator."""
        if owner is not None:
            return await self.list_for(owner)
        return [WebhookView.of(hook) for hook in await self.directory.everyone()]

    async def close(self) -> None:
        await self._sender.close()

    async def update(self, owner: str | None, webhook_id: str, body: WebhookUpdate) -> WebhookView:
        hook = await self.owned(owner, webhook_id)
        changes: dict[str, Any] = body.model_dump(mode="json", exclude_unset=True)
        if "url" in changes:
            parse_target(changes["url"], allow_local=self._allow_local)
        if changes.get("enabled") and not hook.enabled:
            changes |= {"dead_in_a_row": 0, "disabled_reason": None}
        changes["updated_at"] = format_timestamp(self._clock.now())
        document = await self._store.patch(WEBHOOKS, webhook_id, changes)
        self.directory.forget(hook)
        return WebhookView.of(Webhook.model_validate(document.data))

    async def delete(self, owner: str | None, webhook_id: str) -> None:
        hook = await self.owned(owner, webhook_id)
        await self._store.delete(WEBHOOKS, webhook_id)
        self.directory.forget(hook)

    async def rotate_secret(self, owner: str | None, webhook_id: str, body: SecretRotation) -> SecretRotated:
        """A new secret signs from now on; the current one goes on signing too for ``grace_seconds``
        (every delivery carries both signatures meanwhile), so receivers can switch without a gap."""
        await self.owned(owner, webhook_id)
        secret = new_secret()
        sealed = await self._seal.seal(secret, webhook_id=webhook_id)
        # Held while the list is read and written: a re-seal of this webhook (resealing.py) would
        # otherwise write back the list it read, without the new secret.
        async with self._secrets_lock.held(webhook_id):
            hook = await self.owned(owner, webhook_id)
            now = self._clock.now()
            retiring = hook.secrets[0].model_copy(
                update={"expires_at": now + timedelta(seconds=body.grace_seconds)}
            )
            kept = [s for s in hook.secrets[1:] if s.expires_at is not None and s.expires_at > now]
            current = SealedSecret(sealed=sealed, created_at=now)
            secrets = [current, *([retiring] if body.grace_seconds else []), *kept]
            changes = {
                "secrets": [s.model_dump(mode="json") for s in secrets],
                "updated_at": format_timestamp(now),
            }
            await self._store.patch(WEBHOOKS, webhook_id, changes)
            self.directory.forget(hook)
        return SecretRotated(
            webhook_id=webhook_id,
            secret=secret,
            previous_secret_expires_at=retiring.expires_at if body.grace_seconds else None,
        )

    # -- delivering ------------------------------------------------------------------------------

    async def _fan_out(self, item: Received) -> None:
        event = Event.from_json(item.message.data)
        hooks = [
            hook
            for hook in await self.directory.of_owner(event.owner)
            if hook.enabled and hook.wants(event.type) and event.subject != f"webhook/{hook.webhook_id}"
        ]
        payload = item.message.data.decode()
        made = await asyncio.gather(*(self.deliveries.enqueue(hook, event, payload) for hook in hooks))
        await asyncio.gather(*(self.deliveries.first(delivery) for delivery in made if delivery is not None))

    async def test(self, owner: str | None, webhook_id: str) -> TestDelivery:
        """Send a ``webhook.test`` event to this webhook alone, once, now; answers what happened."""
        hook = await self.owned(owner, webhook_id)
        if not hook.enabled:
            raise Conflict(f"webhook {webhook_id} is disabled; enable it (PATCH enabled: true) first")
        event = self._events.build(EventType.WEBHOOK_TEST, {"webhook_id": webhook_id}, owner=hook.owner)
        made = await self.deliveries.enqueue(hook, event, event.to_json().decode(), test=True)
        assert made is not None  # a fresh event id makes a fresh delivery
        done = await self.deliveries.first(made)
        return TestDelivery(delivered=done.state == "delivered", delivery=done)

    async def deliveries_of(
        self, owner: str | None, webhook_id: str, *, limit: int, cursor: str | None
    ) -> DeliveryPage:
        await self.owned(owner, webhook_id)
        return await self.deliveries.page(
            [Filter("webhook_id", Op.EQ, webhook_id)], limit=limit, cursor=cursor
        )

    # -- dead letters ----------------------------------------------------------------------------

    def _dead_filters(self, owner: str | None, webhook_id: str | None) -> list[Filter]:
        if webhook_id is not None:
            return [Filter("webhook_id", Op.EQ, webhook_id)]
        return [] if owner is None else [Filter("owner", Op.EQ, owner)]

    async def dead_letters(
        self, owner: str | None, *, webhook_id: str | None, limit: int, cursor: str | None
    ) -> DeliveryPage:
        """Dead deliveries, newest first: the caller's (an admin's: everyone's), of one webhook if given."""
        if webhook_id is not None:
            await self.owned(owner, webhook_id)
        filters = [*self._dead_filters(owner, webhook_id), Filter("state", Op.EQ, "dead")]
        return await self.deliveries.page(filters, limit=limit, cursor=cursor)

    async def replay(self, owner: str | None, request: ReplayRequest) -> ReplayResult:
        if request.delivery_ids is not None:
            if request.all or request.webhook_id is not None:
                raise InvalidInput(
                    "delivery_ids", "give delivery_ids, or all (with webhook_id if you like), not both"
                )
            found = [await self.deliveries.get(i, owner=owner) for i in dict.fromkeys(request.delivery_ids)]
            not_dead = [d.delivery_id for d in found if d.state != "dead"]
            if not_dead:
                raise Conflict(
                    f"not dead letters: {', '.join(not_dead[:10])}", details={"delivery_ids": not_dead}
                )
            return await self.deliveries.replay(found)
        if not request.all:
            raise InvalidInput("all", "give delivery_ids, or all: true to replay every dead letter")
        if request.webhook_id is not None:
            await self.owned(owner, request.webhook_id)
        return await self.deliveries.replay(
            await self.deliveries.dead_of(self._dead_filters(owner, request.webhook_id))
        )

    async def replay_one(self, owner: str | None, delivery_id: str) -> ReplayResult:
        return await self.replay(owner, ReplayRequest(delivery_ids=[delivery_id]))
