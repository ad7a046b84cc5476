"""Secrets read once per TTL, and served stale for a bounded grace period while the store is down.

- A value read is *fresh* for ``SECRET_CACHE_TTL_SECONDS``: readers get it without a call.
- Past that, the next reader reads it again (callers asking at once share one read). If the store
  is unavailable, the last value is still served, *stale*, until ``SECRET_STALE_GRACE_SECONDS`` past
  its expiry; the entry remembers since when it fails, which readiness reports. After the grace period
  the failure reaches the caller: a secret nobody could confirm for that long may have been revoked.
- Only unavailability is bridged: a secret that was deleted, or that our identity may no longer read,
  is an answer, and it stops the serving at once.
- A missing secret is remembered for the TTL too, so a service without one does not ask on every call.

Time comes from the service's clock, so tests move it instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.secrets import SecretNotFound
from virtuoso_api.kit.clock import Clock

V = TypeVar("V")
logger = logging.getLogger(__name__)


@dataclass
class Entry(Generic[V]):
    """What is known of one secret. ``value`` is ``None`` when it does not exist (``missing``) or was
    never read successfully."""

    value: V | None
    fresh_until: datetime
    missing: bool = False
    failing_since: datetime | None = None

    def servable_until(self, grace: timedelta) -> datetime:
        return self.fresh_until + grace


@dataclass(frozen=True)
class StaleEntry:
    key: str
    failing_since: datetime
    served_until: datetime | None  # None: never read, nothing to serve


class SecretCache(Generic[V]):
    def __init__(self, *, clock: Clock, ttl: timedelta, grace: timedelta) -> None:
        self._clock = clock
        self.ttl = ttl
        self.grace = grace
        self._entries: dict[str, Entry[V]] = {}
        self._reads: dict[str, asyncio.Task[V]] = {}
        self.reads = 0  # reads that reached the store: a counter tests and metrics can read

    def peek(self, key: str) -> Entry[V] | None:
        """The entry as it is, without reading anything (cheap enough for every request)."""
        return self._entries.get(key)

    def keys(self) -> list[str]:
        return list(self._entries)

    async def get(self, key: str, read: Callable[[], Awaitable[V]]) -> V:
        """The fresh value, else one read (stale within the grace period if the read fails)."""
        entry = self._entries.get(key)
        if entry is not None and self._clock.now() < entry.fresh_until:
            if entry.value is None:
                raise SecretNotFound(f"secret {key} does not exist (as read less than {self.ttl} ago)")
            return entry.value
        return await self.refresh(key, read)

    async def refresh(self, key: str, read: Callable[[], Awaitable[V]]) -> V:
        """Read now whatever the entry's age; callers that ask while a read runs share it."""
        task = self._reads.get(key)
        if task is None:
            task = asyncio.ensure_future(self._read(key, read))
            self._reads[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
        return await asyncio.shield(task)

    def put(self, key: str, value: V) -> None:
        """What this process just stored is the freshest value there is."""
        self._entries[key] = Entry(value, self._clock.now() + self.ttl)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def stale(self) -> list[StaleEntry]:
        """Entries whose last read failed: served stale (within the grace period) or not at all."""
        found = []
        for key, entry in self._entries.items():
            if entry.failing_since is None:
                continue
            until = entry.servable_until(self.grace) if entry.value is not None else None
            found.append(StaleEntry(key, entry.failing_since, until))
        return found

    def due(self) -> list[str]:
        """Keys whose value is past its TTL (or failing): what a readiness check reads again."""
        now = self._clock.now()
        return [key for key, entry in self._entries.items() if now >= entry.fresh_until]

    async def _read(self, key: str, read: Callable[[], Awaitable[V]]) -> V:
        self.reads += 1
        try:
            value = await read()
        except BackendUnavailable:
            stale = self._stale(key)
            if stale is None:
                raise
            return stale
        except SecretNotFound:
            self._entries[key] = Entry(None, self._clock.now() + self.ttl, missing=True)
            raise
        except Exception:
            self._entries.pop(key, None)  # refused or unreadable: nothing may be served any more
            raise
        self._entries[key] = Entry(value, self._clock.now() + self.ttl)
        return value

    def _stale(self, key: str) -> V | None:
        """The last value while it may still be served, marking the entry failing; else ``None``."""
        now = self._clock.now()
        entry = self._entries.get(key)
        first_failure = entry is None or entry.failing_since is None
        if entry is None or entry.missing:
            self._entries[key] = entry = Entry(None, now, failing_since=now)
        elif entry.failing_since is None:
            entry.failing_since = now
        if entry.value is not None and now < entry.servable_until(self.grace):
            if not first_failure:  # said once per outage, not on every read that fails again
                return entry.value
            logger.warning(
                "secret %s could not be read again; serving the value read before (stale since %s, "
                "for at most %ss more)",
                key,
                entry.fresh_until.isoformat(),
                round((entry.servable_until(self.grace) - now).total_seconds()),
            )
            return entry.value
        return None

    def _settled(self, key: str, task: asyncio.Task[V]) -> None:
        if self._reads.get(key) is task:
            del self._reads[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a read nobody awaits any more is not reported as lost
