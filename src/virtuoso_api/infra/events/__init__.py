"""The events capability: the port, the local log, and the factory that picks the bus from the settings.

Without ``USE_PUBSUB`` one SQLite file in the data folder (``events.sqlite3``) is both the bus and the
journal the live stream reads. With it the bus is Pub/Sub and the same file keeps only the journal: a
mirror of the topic each instance fills from a subscription of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.events.port import (
    MAX_DELIVERY_ATTEMPTS,
    MAX_MESSAGE_BYTES,
    MIN_DELIVERY_ATTEMPTS,
    REPLAY_FOR,
    EventBus,
    EventBusError,
    EventJournal,
    Logged,
    Message,
    Received,
    SubscriptionSpec,
    UnknownSubscription,
    check_subscription_name,
    meant_for,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget

__all__ = [
    "MAX_DELIVERY_ATTEMPTS",
    "MAX_MESSAGE_BYTES",
    "MIN_DELIVERY_ATTEMPTS",
    "REPLAY_FOR",
    "EventBus",
    "EventBusError",
    "EventJournal",
    "Events",
    "Logged",
    "Message",
    "Received",
    "SubscriptionSpec",
    "UnknownSubscription",
    "build_events",
    "check_libraries",
    "check_subscription_name",
    "meant_for",
]

JOURNAL_FILE = "events.sqlite3"


def check_libraries(settings: Settings) -> None:
    """Raise :class:`Misconfigured` if ``USE_PUBSUB`` is on and the Pub/Sub library is missing."""
    if not settings.use_pubsub:
        return
    try:
        importlib.import_module("google.pubsub_v1")
    except ImportError as exc:
        raise Misconfigured(
            "USE_PUBSUB is on but the Google Cloud libraries are missing: pip install 'virtuoso-api[gcp]'"
        ) from exc


@dataclass(frozen=True)
class Events:
    """The events capability as the root hands it out."""

    bus: EventBus
    journal: EventJournal

    @property
    def backend(self) -> str:
        return self.bus.backend

    @property
    def mirrored(self) -> bool:
        """Whether the journal is filled from the bus (Pub/Sub) rather than being the bus itself."""
        return self.bus is not self.journal  # type: ignore[comparison-overlap]


@asynccontextmanager
async def build_events(settings: Settings, *, clock: Clock) -> AsyncIterator[Events]:
    """Pub/Sub with ``USE_PUBSUB`` (every call through the resilience kit), the local log otherwise;
    closed on exit. Building the Pub/Sub bus contacts nothing."""
    check_libraries(settings)
    from virtuoso_api.infra.events.sqlite_log import SqliteEventLog

    journal = SqliteEventLog(settings.data_dir / JOURNAL_FILE, clock=clock)
    bus: EventBus = journal
    try:
        if settings.use_pubsub:
            # Imported here: the google libraries are the optional ``gcp`` extra.
            from virtuoso_api.infra.events.gcp_pubsub import PubSubEventBus

            assert settings.gcp_project_id is not None  # Settings refuses USE_PUBSUB without it
            remote = RemoteCall(
                "pubsub",
                budget=RetryBudget(
                    deadline_seconds=settings.remote_retry_deadline_seconds,
                    attempt_seconds=settings.remote_attempt_timeout_seconds,
                ),
                breaker=CircuitBreaker(
                    "pubsub", clock=clock, cooldown=timedelta(seconds=settings.breaker_cooldown_seconds)
                ),
            )
            bus = PubSubEventBus.from_settings(
                settings.gcp_project_id, emulator_host=settings.pubsub_emulator_host, remote=remote
            )
        try:
            yield Events(bus, journal)
        finally:
            if bus is not journal:
                await bus.close()
    finally:
        await journal.close()
