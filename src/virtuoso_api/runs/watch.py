"""Following runs: one poll loop per run, however many callers wait on it.

Written here rather than with a polling library: what is shared is the loop (callers join the loop
already reading a run and leave it by themselves), its pauses run on the service's clock so tests move
time instead of sleeping, and it tells Virtuoso's quota (a 429) from an outage.

The loop reads ``GET /executions/{id}/status`` once per round (no retries of its own inside a round:
the pause between rounds is the retry), publishes every answer to its waiters, and ends when the run
ends, when following it cannot go on (an unknown id, a refused token), when Virtuoso has been
unreachable for ``unreachable_seconds``, or when its last waiter leaves.

Pauses: ``first_seconds`` after a change, then growing by ``growth`` while nothing changes, up to
``max_seconds``. A 429 doubles the loop's base pause (at least Virtuoso's ``Retry-After``), for the
rest of the run: the quota is respected, and the run is never failed for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from virtuoso_api.errors import BackendUnavailable, VirtuosoApiError
from virtuoso_api.kit.clock import Clock
from virtuoso_api.virtuoso import VirtuosoUnavailable
from virtuoso_api.virtuoso.executions import Execution

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Read = Callable[[int], Awaitable[Execution]]
OnEnd = Callable[[Execution], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PollPolicy:
    first_seconds: float = 5.0
    max_seconds: float = 60.0
    unreachable_seconds: float = 300.0
    growth: float = 1.5


@dataclass
class _Watch:
    """One run's loop and what it last saw; ``version`` counts published answers."""

    latest: Execution | None = None
    error: BaseException | None = None
    done: bool = False
    version: int = 0
    waiters: int = 0
    polls: int = 0
    throttled: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None


class RunWatcher:
    def __init__(self, read: Read, *, clock: Clock, sleep: Sleep, policy: PollPolicy, on_end: OnEnd) -> None:
        self._read = read
        self._clock = clock
        self._sleep = sleep
        self._policy = policy
        self._on_end = on_end
        self._watches: dict[int, _Watch] = {}
        #: Loops started since this watcher was made: a counter for tests and metrics.
        self.loops_started = 0

    @property
    def following(self) -> int:
        """How many runs have a loop now."""
        return len(self._watches)

    async def wait(
        self,
        execution_id: int,
        *,
        timeout: float | None,
        on_update: Callable[[Execution], None] | None = None,
    ) -> Execution | None:
        """The run once it has ended, or its latest state when ``timeout`` seconds (on the service's
        clock) pass first (``None`` if not even one answer came). ``on_update`` sees every answer.
        Raises what stopped the loop: :class:`VirtuosoNotFound`, a refused token, or
        :class:`BackendUnavailable` after Virtuoso was unreachable for too long."""
        watch = self._join(execution_id)
        deadline = None if timeout is None else self._clock.now() + timedelta(seconds=max(0.0, timeout))
        seen = 0
        try:
            async with watch.changed:
                while True:
                    if watch.version != seen and watch.latest is not None:
                        seen = watch.version
                        if on_update is not None:
                            on_update(watch.latest)
                    if watch.done:
                        if watch.error is not None:
                            raise watch.error
                        return watch.latest
                    if deadline is not None and self._clock.now() >= deadline:
                        return watch.latest
                    await _wait_for(watch.changed, _left(deadline, self._clock.now()))
        finally:
            self._leave(execution_id, watch)

    def _join(self, execution_id: int) -> _Watch:
        watch = self._watches.get(execution_id)
        if watch is None:
            watch = _Watch()
            self._watches[execution_id] = watch
            watch.task = asyncio.create_task(self._loop(execution_id, watch), name=f"run-poll:{execution_id}")
            self.loops_started += 1
        watch.waiters += 1
        return watch

    def _leave(self, execution_id: int, watch: _Watch) -> None:
        watch.waiters -= 1
        if watch.waiters > 0:
            return
        if self._watches.get(execution_id) is watch:
            del self._watches[execution_id]
        if not watch.done and watch.task is not None:
            watch.task.cancel()  # nobody waits any more: stop reading

    async def close(self) -> None:
        """Stop every loop (at shutdown)."""
        tasks = [watch.task for watch in self._watches.values() if watch.task is not None]
        self._watches.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self, execution_id: int, watch: _Watch) -> None:
        policy = self._policy
        base = policy.first_seconds
        delay = base
        down_since: datetime | None = None
        throttled = False
        while True:
            watch.polls += 1
            try:
                execution = await self._read(execution_id)
            except BackendUnavailable as exc:
                now = self._clock.now()
                if _is_quota(exc, after_quota=throttled):
                    throttled = True
                    watch.throttled += 1
                    base = min(policy.max_seconds, max(base * 2, _retry_after(exc)))
                    delay = max(delay, base)
                    logger.info(
                        "run %s: Virtuoso asks us to slow down; next read in %.0fs", execution_id, delay
                    )
                else:
                    throttled = False
                    down_since = down_since or now
                    if (now - down_since).total_seconds() >= policy.unreachable_seconds:
                        await self._finish(watch, error=exc)
                        return
                    delay = min(policy.max_seconds, delay * policy.growth)
                await _notify(watch)  # waiters check their deadlines
            except VirtuosoApiError as exc:  # not found, token refused, ...: following cannot go on
                await self._finish(watch, error=exc)
                return
            except Exception as exc:  # a bug of ours: end the waits rather than hang them
                logger.exception("following run %s failed", execution_id)
                await self._finish(watch, error=exc)
                return
            else:
                down_since, throttled = None, False
                previous = watch.latest
                watch.latest = execution
                watch.version += 1
                if execution.finished:
                    await self._finish(watch)
                    return
                moved = previous is None or (previous.status, previous.progress) != (
                    execution.status,
                    execution.progress,
                )
                delay = base if moved else min(policy.max_seconds, max(base, delay * policy.growth))
                await _notify(watch)
            await self._sleep(delay)

    async def _finish(self, watch: _Watch, *, error: BaseException | None = None) -> None:
        watch.error = error
        if error is None and watch.latest is not None:
            try:
                await self._on_end(watch.latest)
            except Exception:  # recording the result must not fail the waiters who saw it
                logger.exception("recording the end of a run failed")
        watch.done = True
        await _notify(watch)


def _is_quota(exc: BackendUnavailable, *, after_quota: bool) -> bool:
    """A 429, or the breaker answering for Virtuoso right after 429s opened it."""
    if isinstance(exc, VirtuosoUnavailable):
        return exc.upstream_status == 429
    return after_quota


def _retry_after(exc: BackendUnavailable) -> float:
    raw = (exc.headers or {}).get("Retry-After", "")
    return float(raw) if raw.isdigit() else 0.0


async def _notify(watch: _Watch) -> None:
    async with watch.changed:
        watch.changed.notify_all()


def _left(deadline: datetime | None, now: datetime) -> float | None:
    return None if deadline is None else max(0.0, (deadline - now).total_seconds())


async def _wait_for(condition: asyncio.Condition, seconds: float | None) -> None:
    """Wait for a notification, or (on a system clock) for the deadline to pass in real time."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(condition.wait(), seconds)
