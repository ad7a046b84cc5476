"""The events capability: a log of messages that named subscriptions consume, each at its own pace.

Domain code publishes and consumes events through this port; the local adapter (``sqlite_log.py``)
keeps a durable log in the data folder, the Pub/Sub adapter (``gcp_pubsub.py``, ``USE_PUBSUB``) a topic
with one subscription per consumer. Both pass one contract suite (``tests/infra/events/``).

Semantics both adapters keep (Pub/Sub's, so the local log teaches nothing Pub/Sub would break):

- **Publish** appends messages. Messages with the same ``ordering_key`` reach every ordered subscription
  in the order they were published; nothing is promised across keys.
- **Subscriptions** are created by :meth:`EventBus.subscribe` (idempotent) and receive what is
  published *after* they exist. Each consumer has its own; several processes pulling one subscription
  share its messages (competing consumers).
- **Pull** leases messages for ``ack_deadline_seconds``. **Ack** ends a message's life in that
  subscription; **nack**, or a lease that runs out, makes it deliverable again. Delivery is at least
  once: consumers deduplicate by :attr:`Message.id`.
- After ``max_delivery_attempts`` deliveries without an ack, a message is **dead-lettered**: set aside
  for that subscription, listable, and **replayed** into it on demand.
- A message may carry a ``replay_for`` attribute naming the one subscription it is meant for (what a
  replay publishes on Pub/Sub); every other subscription's pull drops it (the Pub/Sub emulator ignores
  subscription filters, so consumers filter: :func:`meant_for`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

#: Pub/Sub's bounds (a dead-letter policy takes 5 to 100 attempts; a lease 10 to 600 s).
MIN_DELIVERY_ATTEMPTS: Final = 5
MAX_DELIVERY_ATTEMPTS: Final = 100
MIN_ACK_DEADLINE_SECONDS: Final = 10
MAX_ACK_DEADLINE_SECONDS: Final = 600
#: Pub/Sub refuses messages over 10 MB; events are far smaller, and this bounds the local log too.
MAX_MESSAGE_BYTES: Final = 1_000_000
REPLAY_FOR: Final = "replay_for"

# Pub/Sub's rule for subscription names, which the local log keeps too: 3 to 255 characters, starting
# with a letter, not "goog".
_NAME = re.compile(r"(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")


class EventBusError(Exception):
    """Base of the errors an :class:`EventBus` raises on purpose."""


class UnknownSubscription(EventBusError):
    def __init__(self, name: str) -> None:
        super().__init__(f"subscription {name!r} does not exist")
        self.name = name


@dataclass(frozen=True, slots=True)
class Message:
    """One published message. ``id`` is the publisher's (an event id), kept through every delivery."""

    id: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    ordering_key: str = ""

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > 128:
            raise ValueError("a message id is 1 to 128 characters")
        if len(self.data) > MAX_MESSAGE_BYTES:
            raise ValueError(f"a message holds at most {MAX_MESSAGE_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class Received:
    """A leased message: ``ack_id`` acks or nacks this delivery; ``delivery_attempt`` counts from 1."""

    ack_id: str
    message: Message
    delivery_attempt: int
    published_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    name: str
    max_delivery_attempts: int = MIN_DELIVERY_ATTEMPTS
    ack_deadline_seconds: int = 60
    ordered: bool = True

    def __post_init__(self) -> None:
        check_subscription_name(self.name)
        if not MIN_DELIVERY_ATTEMPTS <= self.max_delivery_attempts <= MAX_DELIVERY_ATTEMPTS:
            raise ValueError(
                f"max_delivery_attempts must be {MIN_DELIVERY_ATTEMPTS} to {MAX_DELIVERY_ATTEMPTS}"
            )
        if not MIN_ACK_DEADLINE_SECONDS <= self.ack_deadline_seconds <= MAX_ACK_DEADLINE_SECONDS:
            raise ValueError(
                f"ack_deadline_seconds must be {MIN_ACK_DEADLINE_SECONDS} to {MAX_ACK_DEADLINE_SECONDS}"
            )


def check_subscription_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"subscription name {name[:40]!r}: 3 to 255 letters, digits or -_.~+%, starting with a letter"
        )
    return name


def meant_for(message: Message, subscription: str) -> bool:
    """Whether ``subscription`` should see ``message`` (a replay names the one it is for)."""
    target = message.attributes.get(REPLAY_FOR)
    return target is None or target == subscription


class EventBus(Protocol):
    @property
    def backend(self) -> str:
        """``sqlite`` or ``pubsub``."""
        ...

    async def publish(self, messages: Sequence[Message]) -> None:
        """Append ``messages`` in order; returns once every one is stored."""
        ...

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        """Create the subscription if it does not exist (an existing one keeps its settings)."""
        ...

    async def delete_subscription(self, name: str) -> None:
        """Remove a subscription and its dead letters; a missing one is not an error."""
        ...

    async def pull(
        self, subscription: str, *, max_messages: int = 100, wait_seconds: float = 0
    ) -> list[Received]:
        """Lease up to ``max_messages``; with ``wait_seconds``, wait that long at most for the first."""
        ...

    async def ack(self, subscription: str, ack_ids: Sequence[str]) -> None: ...

    async def nack(self, subscription: str, ack_ids: Sequence[str]) -> None: ...

    async def dead_letters(self, subscription: str, *, limit: int = 100) -> list[Message]:
        """The messages of ``subscription`` that ran out of delivery attempts, oldest first."""
        ...

    async def replay_dead_letters(self, subscription: str, *, limit: int = 100) -> int:
        """Make up to ``limit`` dead letters deliverable in ``subscription`` again, with a fresh count of
        attempts; returns how many."""
        ...

    async def ping(self) -> None:
        """Raise :class:`~virtuoso_api.errors.BackendUnavailable` if the backend does not answer."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Logged:
    """A message as the journal keeps it: its position in the journal, and when it was appended."""

    seq: int
    message: Message
    published_at: datetime


class EventJournal(Protocol):
    """The events a process has seen, in the order it saw them, readable from any position: what the
    live stream resumes from. Always the local log (on Pub/Sub, a mirror of the topic)."""

    async def publish(self, messages: Sequence[Message]) -> None:
        """Append; a message whose id is already kept is not appended again."""
        ...

    async def read(
        self, *, after: int = 0, limit: int = 100, where: Mapping[str, Collection[str]] | None = None
    ) -> list[Logged]: ...

    async def position_of(self, message_id: str) -> int | None: ...

    async def last_position(self) -> int: ...

    async def wait(self, timeout: float) -> None:
        """Return when something may have been appended, or after ``timeout`` at most."""
        ...

    async def prune(self) -> int:
        """Forget what is older than the retention and no subscription still needs."""
        ...
