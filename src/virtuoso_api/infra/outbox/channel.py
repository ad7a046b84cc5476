"""Channels of the outbox: deliver now while the backend answers, later (in order) while it does not."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.outbox.log_sqlite import DeadLetter, SqliteOutboxLog

logger = logging.getLogger(__name__)

#: Delivers one payload; raises BackendUnavailable for "not now".
Send = Callable[[Any], Awaitable[None]]

_LEASE_SECONDS = 60.0


class OutboxChannel:
    """One kind of delivery (``documents``, ``events``, ``tasks``) over the shared log.

    ``refused`` lists the exceptions that mean the backend will never take this payload: such an
    entry goes to the dead letters. Anything else a sender raises stops the flush and is logged."""

    def __init__(
        self,
        log: SqliteOutboxLog,
        name: str,
        send: Send,
        *,
        refused: tuple[type[Exception], ...] = (),
    ) -> None:
        self.name = name
        self._log = log
        self._send = send
        self._refused = refused

    async def deliver(self, payload: Any) -> bool:
        """Send ``payload`` now, or accept it for later; ``True`` if it was delivered now.

        Errors other than unavailability (the backend refused it) reach the caller when the backend
        answers; a payload queued behind others is only checked when it is replayed."""
        if await self._log.pending(self.name):
            await self._log.append(self.name, payload)
            return False
        try:
            await self._send(payload)
        except BackendUnavailable as exc:
            logger.warning("%s delivery deferred to the outbox: %s", self.name, exc.message)
            await self._log.append(self.name, payload)
            return False
        return True

    async def pending(self) -> int:
        return await self._log.pending(self.name)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return await self._log.dead_letters(self.name, limit)

    async def replay(self) -> int:
        """Send what waits, in order, until none is left or the backend is unavailable again."""
        landed = 0
        while entries := await self._log.head(self.name):
            for entry in entries:
                try:
                    await self._send(entry.payload)
                except BackendUnavailable:
                    return landed
                except self._refused as exc:
                    logger.error("outbox entry %d of %s refused for good: %s", entry.seq, self.name, exc)
                    await self._log.dead_letter(entry, f"{type(exc).__name__}: {exc}")
                    continue
                await self._log.remove(entry.seq)
                landed += 1
        return landed


class Outbox:
    """The channels of one log, flushed together (at shutdown and by a periodic job)."""

    def __init__(self, log: SqliteOutboxLog) -> None:
        self.log = log
        self._channels: dict[str, OutboxChannel] = {}
        self._owner = secrets.token_hex(8)
        self._flush_lock = asyncio.Lock()

    def channel(self, name: str, send: Send, *, refused: tuple[type[Exception], ...] = ()) -> OutboxChannel:
        if name in self._channels:
            raise ValueError(f"outbox channel {name!r} is already registered")
        created = OutboxChannel(self.log, name, send, refused=refused)
        self._channels[name] = created
        return created

    async def pending(self) -> dict[str, int]:
        return {name: await channel.pending() for name, channel in self._channels.items()}

    async def flush(self) -> int:
        """Replay every channel; returns how many entries landed. One flush runs at a time in a
        process, and one process at a time per log file (a lease in the file)."""
        async with self._flush_lock:
            if not await self.log.take_lease(self._owner, _LEASE_SECONDS):
                return 0
            try:
                landed = 0
                for channel in self._channels.values():
                    landed += await channel.replay()
                if landed:
                    logger.info("outbox: %d deliveries landed", landed)
                return landed
            finally:
                await self.log.release_lease(self._owner)
