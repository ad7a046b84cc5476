"""Where the next step of a checkpoint goes: appends serialised per checkpoint, counts remembered.

Two things go wrong without this. Parallel appends into one checkpoint all count the same steps and
ask Virtuoso for the same index, so most of them answer a position their step does not have. And
counting (listing the whole checkpoint) before every append doubles the calls to Virtuoso.

So appends to one checkpoint take turns within this process, and the count read at the first append is
remembered and advanced by each step added here. A remembered count is trusted for
``STEP_POSITION_CACHE_SECONDS``; after that, or after any failed create in the checkpoint, the next
append counts again. A step added elsewhere (another instance, the Virtuoso UI) inside that window is
how a remembered count goes stale: the next append then lands just before that step rather than after
it, and the position answered is still the one Virtuoso stored. A count that is too high (steps were
deleted elsewhere) makes Virtuoso refuse the index; nothing was created, so :class:`CommandService`
counts again and retries once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from virtuoso_api.kit.clock import Clock


@dataclass
class _Known:
    next: int
    counted_at: datetime


@dataclass
class Slot:
    """The checkpoint's next append position while the caller holds its turn."""

    next: int
    #: True when ``next`` comes from a count made for this turn (not a remembered one).
    fresh: bool
    added: int = 0


class StepPositions:
    def __init__(self, *, clock: Clock, trust_seconds: float) -> None:
        self._clock = clock
        self._trust = timedelta(seconds=trust_seconds)
        self._known: dict[int, _Known] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    @asynccontextmanager
    async def turn(self, checkpoint: int, count: Callable[[], Awaitable[int]]) -> AsyncIterator[Slot]:
        """Hold the checkpoint's turn; ``count()`` reads its step count when none is trusted.

        The caller sets ``slot.added`` to the steps it created; an exception forgets the count."""
        lock = self._locks.setdefault(checkpoint, asyncio.Lock())
        self._holders[checkpoint] = self._holders.get(checkpoint, 0) + 1
        try:
            async with lock:
                slot = await self._slot(checkpoint, count)
                try:
                    yield slot
                except BaseException:
                    self._known.pop(checkpoint, None)
                    raise
                known = self._known.get(checkpoint)
                if known is not None:
                    known.next = slot.next + slot.added
        finally:
            self._holders[checkpoint] -= 1
            if not self._holders[checkpoint]:  # nobody waits: keep the maps as small as the traffic
                del self._holders[checkpoint]
                del self._locks[checkpoint]

    async def recount(self, checkpoint: int, slot: Slot, count: Callable[[], Awaitable[int]]) -> None:
        """Replace a remembered count by a fresh one (within the turn)."""
        self._known.pop(checkpoint, None)
        fresh = await self._slot(checkpoint, count)
        slot.next, slot.fresh = fresh.next, True

    def forget(self, checkpoint: int) -> None:
        self._known.pop(checkpoint, None)

    async def _slot(self, checkpoint: int, count: Callable[[], Awaitable[int]]) -> Slot:
        now = self._clock.now()
        known = self._known.get(checkpoint)
        if known is not None and now - known.counted_at <= self._trust:
            return Slot(next=known.next, fresh=False)
        next_position = await count() + 1
        if self._trust > timedelta(0):
            self._known[checkpoint] = _Known(next_position, now)
            if len(self._known) > 10_000:  # bounded: drop the oldest remembered count
                del self._known[next(iter(self._known))]
        return Slot(next=next_position, fresh=True)
