"""What a domain asks of the composition root, and the one mechanism that runs periodic jobs.

A domain service declares its :class:`Needs` (collections whose documents expire, jobs to run every so
often, work to finish at shutdown); the root collects them, so it never has to know a domain's
collections or chores by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Job


@dataclass(frozen=True, slots=True)
class Needs:
    expiring_collections: tuple[str, ...] = ()
    periodic: tuple[PeriodicJob, ...] = ()
    #: Run once in the background when a server starts (not for a one-off CLI command).
    at_start: tuple[Job, ...] = ()
    #: Run once when the service stops (after the periodic jobs end), e.g. a last flush.
    at_shutdown: tuple[Job, ...] = field(default=())


@contextlib.asynccontextmanager
async def running_periodically(jobs: Sequence[PeriodicJob]) -> AsyncIterator[None]:
    """Run each job every ``every_seconds`` until the block ends; a failing round is logged and the
    job goes on (a periodic job must outlive one bad round)."""

    async def loop(job: PeriodicJob) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await job.run()
            except Exception:
                logger.exception("periodic job %s failed", job.name)

    tasks = [asyncio.create_task(loop(job), name=f"periodic:{job.name}") for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
