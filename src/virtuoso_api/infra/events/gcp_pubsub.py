"""The events capability on Google Cloud Pub/Sub (``USE_PUBSUB``): one topic, a subscription per consumer.

- Messages go to the topic ``virtuoso-events`` with their id and attributes as message attributes and
  their ordering key as Pub/Sub's, so every subscription (created with message ordering) receives one
  checkpoint's events in order.
- Each subscription ``S`` has its own dead-letter topic ``S-dead`` (``max_delivery_attempts``) and a pull
  subscription on it, also ``S-dead``: listing dead letters pulls from it and hands them back at once;
  a replay republishes them to the topic with ``replay_for=S`` and acks them, and every other
  subscription drops what is not meant for it (the emulator ignores subscription filters, so the
  consumer filters; on Pub/Sub itself the subscriptions carry the same rule as a filter).
- Every call goes through the resilience kit (:class:`~virtuoso_api.resilience.RemoteCall`): transient
  codes are retried within ``REMOTE_RETRY_DEADLINE_SECONDS``, then the breaker answers at once.
  A publish retried after a lost answer may land twice; consumers deduplicate by message id.
- Nothing is contacted at construction: a service that starts while Pub/Sub is down degrades (events
  wait in the outbox) instead of failing. The topic is created on first use.

The GAPIC async clients are used rather than ``pubsub_v1.PublisherClient``: the high-level client
batches on threads and returns concurrent futures, while the outbox already decides batching and order
and every caller here is async. Imported only when ``USE_PUBSUB`` is on (the ``gcp`` extra).

On Pub/Sub itself the service agent (``service-{project-number}@gcp-sa-pubsub.iam.gserviceaccount.com``)
needs ``roles/pubsub.publisher`` on the dead-letter topics and ``roles/pubsub.subscriber`` on the
subscriptions for dead-lettering to work (README).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from virtuoso_api.infra.events.port import (
    REPLAY_FOR,
    Message,
    Received,
    SubscriptionSpec,
    UnknownSubscription,
    check_subscription_name,
    meant_for,
)
from virtuoso_api.resilience import RemoteCall

if TYPE_CHECKING:
    from google.pubsub_v1.services.publisher.async_client import PublisherAsyncClient
    from google.pubsub_v1.services.subscriber.async_client import SubscriberAsyncClient

T = TypeVar("T")

BACKEND: Final = "pubsub"
TOPIC: Final = "virtuoso-events"
DEAD_SUFFIX: Final = "-dead"
_ID_ATTRIBUTE: Final = "id"
# Pub/Sub takes at most 1,000 messages or 10 MB per publish request.
_PUBLISH_CHUNK: Final = 500
_EMPTY_PULL_PAUSE_SECONDS: Final = 0.2

_TRANSIENT: Final = (
    TimeoutError,
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.Aborted,
    api_exceptions.ResourceExhausted,
    api_exceptions.InternalServerError,
    api_exceptions.Unknown,
    auth_exceptions.TransportError,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT)


def subscriptions_for(project: str, spec: SubscriptionSpec) -> list[Any]:
    """The dead-letter subscription and the consumer's own, as the service creates them (also what
    ``virtuoso-api gcp bootstrap`` creates ahead of it)."""
    from google.pubsub_v1.types import DeadLetterPolicy, Subscription

    def topic(name: str) -> str:
        return f"projects/{project}/topics/{name}"

    def subscription(name: str) -> str:
        return f"projects/{project}/subscriptions/{check_subscription_name(name)}"

    dead = spec.name + DEAD_SUFFIX
    return [
        Subscription(name=subscription(dead), topic=topic(dead)),
        Subscription(
            name=subscription(spec.name),
            topic=topic(TOPIC),
            ack_deadline_seconds=spec.ack_deadline_seconds,
            enable_message_ordering=spec.ordered,
            dead_letter_policy=DeadLetterPolicy(
                dead_letter_topic=topic(dead), max_delivery_attempts=spec.max_delivery_attempts
            ),
            # What a replay for another subscription publishes is not for this one.
            filter=f'NOT attributes:{REPLAY_FOR} OR attributes.{REPLAY_FOR} = "{spec.name}"',
        ),
    ]


class PubSubEventBus:
    """:class:`~virtuoso_api.infra.events.port.EventBus` over a Pub/Sub project."""

    def __init__(
        self,
        project: str,
        *,
        publisher: PublisherAsyncClient,
        subscriber: SubscriberAsyncClient,
        remote: RemoteCall,
    ) -> None:
        self._project = project
        self._publisher = publisher
        self._subscriber = subscriber
        self._remote = remote
        self._topic_ready = False
        self._topic_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, project: str, *, emulator_host: str | None, remote: RemoteCall) -> PubSubEventBus:
        publisher, subscriber = make_clients(emulator_host)
        return cls(project, publisher=publisher, subscriber=subscriber, remote=remote)

    @property
    def backend(self) -> str:
        return BACKEND

    def topic_path(self, name: str = TOPIC) -> str:
        return f"projects/{self._project}/topics/{name}"

    def subscription_path(self, name: str) -> str:
        return f"projects/{self._project}/subscriptions/{check_subscription_name(name)}"

    async def _call(self, attempt: Callable[[float], Awaitable[T]], *, what: str, retry: bool = True) -> T:
        return await self._remote(attempt, what=what, transient=is_transient, retry=retry)

    # -- topics ----------------------------------------------------------------------------------

    async def _ensure_topic(self, name: str = TOPIC) -> None:
        if name == TOPIC and self._topic_ready:
            return
        async with self._topic_lock:
            with contextlib.suppress(api_exceptions.AlreadyExists):
                await self._call(
                    lambda t: self._publisher.create_topic(name=self.topic_path(name), timeout=t, retry=None),
                    what=f"creating topic {name}",
                )
            if name == TOPIC:
                self._topic_ready = True

    # -- publishing ------------------------------------------------------------------------------

    async def publish(self, messages: Sequence[Message]) -> None:
        from google.pubsub_v1.types import PubsubMessage

        if not messages:
            return
        await self._ensure_topic()
        for start in range(0, len(messages), _PUBLISH_CHUNK):
            chunk = [
                PubsubMessage(
                    data=m.data,
                    attributes={**m.attributes, _ID_ATTRIBUTE: m.id},
                    ordering_key=m.ordering_key,
                )
                for m in messages[start : start + _PUBLISH_CHUNK]
            ]
            try:
                await self._call(
                    lambda t, chunk=chunk: self._publisher.publish(  # type: ignore[misc]
                        topic=self.topic_path(), messages=chunk, timeout=t, retry=None
                    ),
                    what="publishing events",
                )
            except api_exceptions.NotFound:  # the topic was deleted behind our back: make it again
                self._topic_ready = False
                await self._ensure_topic()
                await self._call(
                    lambda t, chunk=chunk: self._publisher.publish(  # type: ignore[misc]
                        topic=self.topic_path(), messages=chunk, timeout=t, retry=None
                    ),
                    what="publishing events",
                )

    # -- subscriptions ---------------------------------------------------------------------------

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        try:
            await self._subscribe(spec)
        except api_exceptions.NotFound:  # the topic was deleted behind our back: make it again
            self._topic_ready = False
            await self._subscribe(spec)

    async def _subscribe(self, spec: SubscriptionSpec) -> None:
        await self._ensure_topic()
        await self._ensure_topic(spec.name + DEAD_SUFFIX)
        for subscription in subscriptions_for(self._project, spec):
            await self._create(subscription)

    async def _create(self, subscription: Any) -> None:
        with contextlib.suppress(api_exceptions.AlreadyExists):
            await self._call(
                lambda t: self._subscriber.create_subscription(request=subscription, timeout=t, retry=None),
                what=f"creating subscription {subscription.name.rsplit('/', 1)[-1]}",
            )

    async def delete_subscription(self, name: str) -> None:
        for subscription in (name, name + DEAD_SUFFIX):
            with contextlib.suppress(api_exceptions.NotFound):
                await self._call(
                    lambda t, s=subscription: self._subscriber.delete_subscription(  # type: ignore[misc]
                        subscription=self.subscription_path(s), timeout=t, retry=None
                    ),
                    what=f"deleting subscription {subscription}",
                )
        with contextlib.suppress(api_exceptions.NotFound):
            await self._call(
                lambda t: self._publisher.delete_topic(
                    topic=self.topic_path(name + DEAD_SUFFIX), timeout=t, retry=None
                ),
                what=f"deleting topic {name}{DEAD_SUFFIX}",
            )

    # -- consuming -------------------------------------------------------------------------------

    async def _pull_raw(self, subscription: str, max_messages: int, wait_seconds: float) -> list[Any]:
        budget = self._remote.budget.attempt_seconds

        async def attempt(timeout: float) -> list[Any]:
            # A pull that waits for messages ends in DEADLINE_EXCEEDED when none came: that is "none".
            waiting = min(max(wait_seconds, 0.0), budget)
            try:
                response = await self._subscriber.pull(
                    subscription=self.subscription_path(subscription),
                    max_messages=max_messages,
                    timeout=waiting if waiting > 0 else timeout,
                    retry=None,
                )
            except api_exceptions.DeadlineExceeded:
                if waiting > 0:
                    return []
                raise
            return list(response.received_messages)

        try:
            return await self._call(attempt, what=f"pulling from {subscription}")
        except api_exceptions.NotFound as exc:
            raise UnknownSubscription(subscription) from exc

    async def pull(
        self, subscription: str, *, max_messages: int = 100, wait_seconds: float = 0
    ) -> list[Received]:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        deadline = time.monotonic() + wait_seconds
        while True:
            received = await self._pull_once(subscription, max_messages, wait_seconds)
            left = deadline - time.monotonic()
            if received or left <= 0:
                return received
            # The emulator answers an empty pull at once, whatever its deadline: wait here instead.
            await asyncio.sleep(min(left, _EMPTY_PULL_PAUSE_SECONDS))

    async def _pull_once(self, subscription: str, max_messages: int, wait_seconds: float) -> list[Received]:
        raw = await self._pull_raw(subscription, max_messages, wait_seconds)
        received: list[Received] = []
        foreign: list[str] = []
        for item in raw:
            message = _to_message(item.message)
            if not meant_for(message, subscription):
                foreign.append(item.ack_id)
                continue
            # Pub/Sub counts attempts only where a dead-letter policy is set (always, here).
            received.append(
                Received(item.ack_id, message, max(1, item.delivery_attempt), _published_at(item.message))
            )
        await self.ack(subscription, foreign)
        return received

    async def ack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        if not ack_ids:
            return
        # Ack ids of leases that ran out are refused: those messages come again, as the port says.
        with contextlib.suppress(api_exceptions.InvalidArgument):
            await self._call(
                lambda t: self._subscriber.acknowledge(
                    subscription=self.subscription_path(subscription),
                    ack_ids=list(ack_ids),
                    timeout=t,
                    retry=None,
                ),
                what=f"acking in {subscription}",
            )

    async def nack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        if not ack_ids:
            return
        with contextlib.suppress(api_exceptions.InvalidArgument):
            await self._call(
                lambda t: self._subscriber.modify_ack_deadline(
                    subscription=self.subscription_path(subscription),
                    ack_ids=list(ack_ids),
                    ack_deadline_seconds=0,
                    timeout=t,
                    retry=None,
                ),
                what=f"nacking in {subscription}",
            )

    async def dead_letters(self, subscription: str, *, limit: int = 100) -> list[Message]:
        dead = subscription + DEAD_SUFFIX
        raw = await self._pull_raw(dead, limit, 1.0)
        await self.nack(dead, [item.ack_id for item in raw])  # only looked at: back for the next look
        messages = [_to_message(item.message) for item in raw]
        return sorted(messages, key=lambda m: m.id)

    async def replay_dead_letters(self, subscription: str, *, limit: int = 100) -> int:
        dead = subscription + DEAD_SUFFIX
        raw = await self._pull_raw(dead, limit, 1.0)
        if not raw:
            return 0
        again = [_to_message(item.message) for item in raw]
        await self.publish(
            [Message(m.id, m.data, {**m.attributes, REPLAY_FOR: subscription}, m.ordering_key) for m in again]
        )
        await self.ack(dead, [item.ack_id for item in raw])
        return len(again)

    async def ping(self) -> None:
        # NotFound is an answer: the topic is made on the first publish.
        with contextlib.suppress(api_exceptions.NotFound):
            await self._call(
                lambda t: self._publisher.get_topic(topic=self.topic_path(), timeout=t, retry=None),
                what="reading the events topic",
                retry=False,
            )

    async def close(self) -> None:
        for client in (self._publisher, self._subscriber):
            await client.transport.close()  # type: ignore[no-untyped-call]


def _to_message(raw: Any) -> Message:
    attributes = dict(raw.attributes)
    message_id = attributes.pop(_ID_ATTRIBUTE, None) or raw.message_id
    return Message(message_id, bytes(raw.data), attributes, raw.ordering_key)


def _published_at(raw: Any) -> datetime:
    published = raw.publish_time
    if isinstance(published, datetime):
        return published.astimezone(UTC)
    return datetime.now(UTC)


def make_clients(emulator_host: str | None) -> tuple[PublisherAsyncClient, SubscriberAsyncClient]:
    """The async publisher and subscriber: over an insecure channel to ``emulator_host`` when given,
    else Google's endpoint with Application Default Credentials.

    https://cloud.google.com/python/docs/reference/pubsub/latest/google.pubsub_v1.services.publisher.PublisherAsyncClient
    """
    from google.pubsub_v1.services.publisher.async_client import PublisherAsyncClient
    from google.pubsub_v1.services.publisher.transports.grpc_asyncio import PublisherGrpcAsyncIOTransport
    from google.pubsub_v1.services.subscriber.async_client import SubscriberAsyncClient
    from google.pubsub_v1.services.subscriber.transports.grpc_asyncio import SubscriberGrpcAsyncIOTransport

    if emulator_host:
        # The GAPIC clients do not read PUBSUB_EMULATOR_HOST themselves (only the high-level ones do),
        # and Settings is the one source anyway: the emulator speaks plain gRPC.
        from grpc import aio  # type: ignore[import-untyped]

        publisher = PublisherAsyncClient(
            transport=PublisherGrpcAsyncIOTransport(channel=aio.insecure_channel(emulator_host))
        )
        subscriber = SubscriberAsyncClient(
            transport=SubscriberGrpcAsyncIOTransport(channel=aio.insecure_channel(emulator_host))
        )
        return publisher, subscriber
    return PublisherAsyncClient(), SubscriberAsyncClient()
