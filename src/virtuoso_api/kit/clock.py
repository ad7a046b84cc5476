"""Time as a dependency, so expiry and sliding TTLs are testable without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    async def sleep(self, seconds: float) -> None:
        """Waiting on a manual clock moves it on (then lets other tasks run): code that pauses on
        the service's clock runs in tests without waiting."""
        self.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


def sleeper(clock: Clock) -> Callable[[float], Awaitable[None]]:
    """How to pause on ``clock``: a :class:`ManualClock` moves on, any other waits for real."""
    return clock.sleep if isinstance(clock, ManualClock) else asyncio.sleep
